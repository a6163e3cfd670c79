#!/usr/bin/env bash
# One data job of device_run.sh (run in parallel by xargs). Needs JAVA_CMD, VOCAB, DATA, TRAINING.
#   gen_job.sh lm                          tokenised long texts -> DATA/lm (rbench export-text)
#   gen_job.sh train LEN TASK SAMPLES SEED RULER samples -> DATA/ready/LEN_TASK_SEED.npz
#   gen_job.sh eval  LEN TASK SAMPLES      held-out RULER samples (seed 42) -> DATA/eval/LEN/TASK.*
set -u
kind=$1

case $kind in
  lm)
    $JAVA_CMD export-text --tokenizer "$VOCAB" --texts sotu,moby-dick --out "$DATA/lm" ;;
  train)
    len=$2 task=$3 n=$4 seed=$5
    dir="$DATA/gen/${len}_${task}_${seed}"
    $JAVA_CMD ruler-gen --tokenizer "$VOCAB" --tasks "$task" --lengths "$len" --samples "$n" --seed "$seed" \
      --token-ids --out "$dir" >/dev/null \
      && python3 "$TRAINING/convert_ids.py" "$dir" "$DATA/ready/${len}_${task}_${seed}.npz" \
      && rm -rf "$dir" ;;
  eval)
    len=$2 task=$3 n=$4
    dir="$DATA/gen/eval_${len}_${task}"
    $JAVA_CMD ruler-gen --tokenizer "$VOCAB" --tasks "$task" --lengths "$len" --samples "$n" --seed 42 \
      --token-ids --out "$dir" >/dev/null \
      && mkdir -p "$DATA/eval/$len" && mv "$dir/$len/"* "$DATA/eval/$len/" ;;
esac
rc=$?
echo "job $* rc=$rc ${SECONDS}s"
