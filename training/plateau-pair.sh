#!/usr/bin/env bash
# The copy-plateau study on a machine with two GPUs, in one device call: device_run.sh copy
# (copy-pairs rows only, 128 tokens, ids 100-4100, lr 1e-3 constant; the stage probe logged
# every 50 steps) on each GPU, with its own trainer arguments: A_EXTRA on GPU 0, B_EXTRA on
# GPU 1 (e.g. B_EXTRA="--precision fp32", or "--layers 2", or "--tokens-per-step 4096" with a
# STAGES of 32 rows). Which one leaves the plateau, and at which step, is in plateau.tgz.
#   carry: .cache/device/{jre.txz,rbench.tgz,llama-libs.tgz} (scripts/pack-device-bundle.sh) and
#          .cache/device/train (training/pack.sh --slim)
#   run:   export OUT; A_EXTRA="" B_EXTRA="--precision fp32" bash .cache/device/train/training/plateau-pair.sh
set -u
limit=${LIMIT_S:-570}
B=$(cd "$(dirname "$0")/.." && pwd)
P=/tmp/plateau; mkdir -p $P/A $P/B
for side in A B; do
  extra_var=${side}_EXTRA
  gpu=0; [ $side = B ] && gpu=1
  (CUDA_VISIBLE_DEVICES=$gpu OUT=$P/$side WORK=$P/work$side DEADLINE_S=$limit WORKERS=1 \
    TRAIN_EXTRA="--copy-format pairs --warmup 100 --probe-every 50 --log-every 25 ${!extra_var:-}" \
    bash "$B/training/device_run.sh" copy > $P/$side/device_run.log 2>&1) &
done
wait
for side in A B; do
  extra_var=${side}_EXTRA
  echo "== $side (GPU $([ $side = A ] && echo 0 || echo 1)): ${!extra_var:-defaults}"
  grep -h "stage 0 probe" $P/$side/train.log | awk 'NR % 10 == 1' | tail -12
  grep -h "broke\|trained\|Error" $P/$side/train.log
done
tar czf "${OUT:-/tmp}/plateau.tgz" --exclude='work*' --exclude='weights.*' -C /tmp plateau
ls -la "${OUT:-/tmp}"
