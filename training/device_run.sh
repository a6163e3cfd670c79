#!/usr/bin/env bash
# The whole training run on the GPU machine, in one command (see training/README.md):
# unpack the bundle, generate the token-id data with the suite's Java code in the background
# (seeds >= 1000 for training, 42 for the held-out set), train, evaluate, write $OUT.
#   bash .cache/device/train/training/device_run.sh full|short|smoke|copy|finetune
#   (copy: copy rows only, no RULER data; finetune: 4K and 8K data only, FOCUS_TASKS with more
#   samples, in jobs of CHUNK samples so that the pool fills while the trainer starts from --init)
# Environment: OUT (results folder), DEADLINE_S (seconds after start by which results are
# saved; default 575), DEVICE, TRAIN_EXTRA (extra trainer arguments), WORKERS, SEED0 (first
# training seed, default 1000), DATA_DIR with GEN=0: train on the data another run generates
# there (two-runs.sh SHARE_DATA=1) instead of generating any.
set -u
T0=$(date +%s)
MODE=${1:-full}
B=$(cd "$(dirname "$0")/.." && pwd)          # the bundle: jre.txz (or .tgz) rbench.tgz llama-libs.tgz datasets.tgz vocab training/
W=${WORK:-/tmp/rbtrain}
OUT=${OUT:-$W/out}
GEN=${GEN:-1}
mkdir -p "$W" "$OUT"
[ "$GEN" = 1 ] && rm -rf "${DATA_DIR:-$W/data}"
cd "$W"
# each archive from the bundle, or from the folder above it (a slim bundle next to the suite's
# device bundle, scripts/pack-device-bundle.sh: one copy of the runtime in the 64 MiB carried)
bundled() { ls "$B/$1" "$B/../$1" 2>/dev/null | head -1; }
for t in jre rbench datasets; do
  [ -d "$W/$t" ] && continue
  f=$(bundled $t.txz); [ -n "$f" ] || f=$(bundled $t.tgz)
  tar xf "$f" || { echo "device_run: no $t archive in $B or above it"; exit 3; }
done
libs_tgz=$(bundled llama-libs.tgz); [ -n "$libs_tgz" ] || libs_tgz=$(bundled llama-libs-min.tgz)
[ -d "$W/libs" ] || { mkdir -p libs && tar xzf "$libs_tgz" -C libs; }
nproc; free -g | head -2; python3 -c "import torch, numpy; print(torch.__version__, numpy.__version__, torch.cuda.get_device_name())" 2>&1
echo "unpacked in $(( $(date +%s) - T0 )) s"
export RBENCH_LLAMACPP_DIR=$W/libs RBENCH_DATA=$W/datasets RBENCH_SUITE_COMMIT=$(cat "$W/rbench/COMMIT" 2>/dev/null)
export JAVA_CMD="nice -n 10 $W/jre/bin/java -XX:ActiveProcessorCount=2 -Xmx3g --enable-native-access=ALL-UNNAMED -jar $W/rbench/rbench.jar"
export VOCAB=$B/ggml-vocab-llama-spm.gguf DATA=${DATA_DIR:-$W/data} TRAINING=$B/training
[ "$GEN" = 1 ] && mkdir -p "$DATA/lm" "$DATA/ready" "$DATA/gen" "$DATA/eval"
TASKS="niah_single_1 niah_single_2 niah_single_3 niah_multikey_1 niah_multikey_2 niah_multikey_3 niah_multivalue niah_multiquery vt cwe fwe"
S512=0
if [ "$MODE" = copy ]; then      # copy rows only (plateau studies): the LM text is the only data job
  LENGTHS=${LENGTHS:-" "}; SEVAL=0
elif [ "$MODE" = smoke ]; then
  S1K=30 S2K=30 S4K=40 S8K=40 S16K=10 SEVAL=6
elif [ "$MODE" = short ]; then   # a run of about 3 minutes of training (the second run, see README)
  S512=100 S1K=100 S2K=100 S4K=200 S8K=120 S16K=0 SEVAL=30
  LENGTHS=${LENGTHS:-"512 1024 2048 4096 EVAL 8192"}
else
  S1K=230 S2K=280 S4K=550 S8K=360 S16K=75 SEVAL=50
fi
LENGTHS=${LENGTHS:-"1024 2048 4096 EVAL 8192 16384"}
if [ "$MODE" = finetune ]; then
  # the evaluation lengths only; FOCUS_TASKS (the ones below the bar) with FOCUS_4K / FOCUS_8K
  # samples, the rest with FT_S4K / FT_S8K, in jobs of CHUNK samples: each job's rows join the
  # trainer's pool as soon as it ends, and the 4K ones come first
  FOCUS_TASKS=${FOCUS_TASKS:-"niah_multikey_2 niah_multikey_3 niah_multivalue niah_multiquery"}
  S4K=${FT_S4K:-400} S8K=${FT_S8K:-300} FOCUS_4K=${FOCUS_4K:-2000} FOCUS_8K=${FOCUS_8K:-1500} CHUNK=${CHUNK:-250} SEVAL=50
fi
{
  echo lm
  seed=${SEED0:-1000}
  if [ "$MODE" = finetune ]; then
    for len in 4096 EVAL 8192; do
      if [ $len = EVAL ]; then
        for task in $TASKS; do echo "eval 4096 $task $SEVAL"; echo "eval 8192 $task $SEVAL"; done
        continue
      fi
      # round-robin over tasks, one chunk each per round, until every task has its samples
      declare -A left=()
      for task in $TASKS; do
        case " $FOCUS_TASKS " in *" $task "*) left[$task]=$([ $len = 4096 ] && echo $FOCUS_4K || echo $FOCUS_8K) ;;
          *) left[$task]=$([ $len = 4096 ] && echo $S4K || echo $S8K) ;; esac
      done
      while :; do
        any=0
        for task in $TASKS; do
          n=${left[$task]}; [ "$n" -gt 0 ] || continue
          c=$(( n < CHUNK ? n : CHUNK )); left[$task]=$(( n - c )); any=1
          echo "train $len $task $c $seed"; seed=$((seed + 1))
        done
        [ $any = 1 ] || break
      done
      unset left
    done
    LENGTHS=""
  fi
  for len in $LENGTHS; do
    for task in $TASKS; do
      case $len in
        EVAL) echo "eval 4096 $task $SEVAL"; echo "eval 8192 $task $SEVAL"; continue ;;
        512) n=$S512 ;; 1024) n=$S1K ;; 2048) n=$S2K ;; 4096) n=$S4K ;; 8192) n=$S8K ;; 16384) n=$S16K ;; *) n=$S4K ;;
      esac
      echo "train $len $task $n $seed"; seed=$((seed + 1))
    done
  done
} > "$W/jobs.txt"
if [ -n "${JOBS_ONLY:-}" ]; then  # the data plan only: print the jobs and stop
  cat "$W/jobs.txt"; exit 0
fi
XPID=
if [ "$GEN" = 1 ]; then
  xargs -P "${WORKERS:-11}" -L 1 bash "$TRAINING/gen_job.sh" < "$W/jobs.txt" > "$OUT/gen.log" 2>&1 &
  XPID=$!
else
  echo "training on the data generated in $DATA by another run" > "$OUT/gen.log"
fi
DEADLINE=$(( T0 + ${DEADLINE_S:-575} ))
if [ "$MODE" = copy ]; then
  EXTRA="--deadline $DEADLINE --eval-seconds 5 --eval-samples 0 --save-margin 10"
  STAGES=${STAGES:-'[[0.0, {"128": 1.0}, {"copy": 1.0}, {"tokens_per_step": 8192, "copy_vocab": 4000, "copy_seg": [8, 32], "lr": "constant", "until_probe": 0.6}]]'}
elif [ "$MODE" = smoke ]; then
  EXTRA="--train-seconds ${SMOKE_TRAIN_S:-40} --eval-seconds 20 --eval-samples $SEVAL --log-every 10 --warmup 20"
  STAGES=${STAGES:-'[[0.0, {"1024": 0.5, "2048": 0.5}], [0.25, {"4096": 1.0}], [0.5, {"8192": 1.0}], [0.75, {"16384": 1.0}]]'}
elif [ "$MODE" = short ]; then
  EXTRA="--deadline $DEADLINE --eval-seconds 25 --eval-samples $SEVAL --warmup 100 --save-margin 10"
  STAGES=${STAGES:-'[[0.0, {"512": 0.5, "1024": 0.5}, {"ruler": 0.25, "mqar": 0.3, "lm": 0.1, "copy": 0.35}], [0.2, {"1024": 0.3, "2048": 0.4, "4096": 0.3}, {"ruler": 0.5, "mqar": 0.3, "lm": 0.1, "copy": 0.1}], [0.45, {"4096": 0.6, "8192": 0.4}, {"ruler": 0.6, "mqar": 0.25, "lm": 0.1, "copy": 0.05}], [0.75, {"4096": 0.4, "8192": 0.6}, {"ruler": 0.65, "mqar": 0.25, "lm": 0.1}]]'}
elif [ "$MODE" = finetune ]; then
  EXTRA="--deadline $DEADLINE --wait-data 180 --eval-seconds ${EVAL_S:-75}"
  STAGES=${STAGES:-'[[0.0, {"4096": 0.6, "8192": 0.4}, {"ruler": 0.75, "mqar": 0.15, "lm": 0.1}]]'}
else
  EXTRA="--deadline $DEADLINE"
  STAGES=${STAGES:-}
fi
PYTHONUNBUFFERED=1 python3 "$TRAINING/train.py" --data "$DATA" --vocab "$VOCAB" --out "$OUT" $EXTRA \
  ${STAGES:+--stages "$STAGES"} ${DEVICE:+--device $DEVICE} ${TRAIN_EXTRA:-} 2>&1 | tee "$OUT/train.log"
rc=${PIPESTATUS[0]}
# data jobs still running (there should be none): stop them by id
if [ -n "$XPID" ] && kill -0 $XPID 2>/dev/null; then
  echo "data jobs still running at the end: stopping them" | tee -a "$OUT/gen.log"
  pkill -P $XPID; kill $XPID
fi
echo "ready samples: $(ls "$DATA/ready" | wc -l) files; gen summary:" >> "$OUT/gen.log"
du -sh "$DATA"/* >> "$OUT/gen.log" 2>&1
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv >> "$OUT/gen.log" 2>&1
# EXPORT=Q8_0 (or F16): write the GGUF here (pieces model.gguf.NN of <= 15 MiB) and move the F16
# weights out of $OUT, so that a call's 64 MiB of returned files hold the model and more.
if [ -n "${EXPORT:-}" ] && [ -f "$OUT/manifest.json" ]; then
  mkdir -p "$W/weights" && mv "$OUT"/weights.* "$OUT/manifest.json" "$W/weights/"
  RBENCH_LLAMACPP_DIR=$W/libs $W/jre/bin/java --enable-native-access=ALL-UNNAMED \
    -cp "$TRAINING/export:$W/rbench/lib/*" ExportGguf "$W/weights" "$VOCAB" "$W/model.gguf" "$EXPORT" \
    "${MODEL_NAME:-rbench-longctx}" 2>&1 | grep -v "^WARNING" | tail -3
  cp "$W/weights/manifest.json" "$OUT/"
  split -b 15m -d "$W/model.gguf" "$OUT/model.gguf." && sha256sum "$W/model.gguf" | tee "$OUT/model.gguf.sha256"
fi
echo "device_run: trainer rc=$rc, total $(( $(date +%s) - T0 )) s"
ls -la "$OUT"
exit $rc
