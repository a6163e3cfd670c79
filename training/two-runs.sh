#!/usr/bin/env bash
# Two trainings side by side on a machine with two or more GPUs, in one device call:
# device_run.sh MODE on GPU A_GPU (default 0) with trainer arguments A_EXTRA and on GPU B_GPU
# (default 1) with B_EXTRA, both added to TRAIN_EXTRA (e.g. from a recipe). Each side's
# results (train.log, results.json, manifest.json and, with EXPORT=Q8_0|F16, the model
# pieces) are packed into $OUT/A.tgz and $OUT/B.tgz: the device tool returns at most 8 files.
#   MODE=copy: the copy-plateau study (copy-pairs rows only, 128 tokens, ids 100-4100, lr 1e-3
#     constant, the stage probe every 50 steps): which side leaves the plateau, and when.
#   MODE=full: whole runs (RULER curriculum, evaluation), e.g. two model shapes of one recipe.
#   MODE=finetune: two continuations of one model (--init in TRAIN_EXTRA), 4K and 8K data only;
#     with SHARE_DATA=1 side A generates one data set (WORKERS jobs at once) and both train on it.
#   carry: .cache/device/{jre.txz,rbench.tgz,llama-libs.tgz} (scripts/pack-device-bundle.sh) and
#          .cache/device/train (training/pack.sh --slim)
#   run:   export OUT; A_EXTRA="" B_EXTRA="--precision fp32" bash .cache/device/train/training/two-runs.sh
#          export OUT; set -a; . training/recipe-induction-first.env; set +a; MODE=full EXPORT=Q8_0 \
#            A_EXTRA="--d-model 256 --layers 4 --heads 4 --kv-heads 2 --ffn 768" B_EXTRA="..." bash .../two-runs.sh
set -u
limit=${LIMIT_S:-570}
mode=${MODE:-copy}
B=$(cd "$(dirname "$0")/.." && pwd)
P=/tmp/two-runs; mkdir -p $P/A $P/B
base=${TRAIN_EXTRA:-}
[ "$mode" = copy ] && base="--copy-format pairs --warmup 100 --probe-every 50 --log-every 25 $base"
for side in A B; do
  extra_var=${side}_EXTRA gpu_var=${side}_GPU
  gpu=${!gpu_var:-$([ $side = A ] && echo 0 || echo 1)}
  share=()
  # SHARE_DATA=1: side A generates the data (with all the workers) and B trains on it too
  [ "${SHARE_DATA:-0}" = 1 ] && [ $side = B ] && share=(DATA_DIR=$P/workA/data GEN=0)
  ([ ${#share[@]} -gt 0 ] && export "${share[@]}"; CUDA_VISIBLE_DEVICES=$gpu OUT=$P/$side WORK=$P/work$side DEADLINE_S=$limit WORKERS=${WORKERS:-$([ "$mode" = copy ] && echo 1 || echo 11)} \
    TRAIN_EXTRA="$base ${!extra_var:-}" MODEL_NAME="${MODEL_NAME:-rbench-longctx}-$side" \
    bash "$B/training/device_run.sh" "$mode" > $P/$side/device_run.log 2>&1) &
done
wait
for side in A B; do
  extra_var=${side}_EXTRA
  echo "== $side: ${!extra_var:-defaults}"
  grep -h "model {" $P/$side/train.log | head -1
  grep -h "stage 0 probe" $P/$side/train.log | awk 'NR % 10 == 1' | tail -6
  grep -h "broke\|trained\|Error\|eval\b\|score" $P/$side/train.log | tail -25
  tar czf "${OUT:-/tmp}/$side.tgz" --exclude='weights.*' -C $P $side
done
ls -la "${OUT:-/tmp}"
