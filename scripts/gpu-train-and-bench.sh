#!/usr/bin/env bash
# One device call on a machine with two GPUs, for when device time is short: the embedded
# model's training run on GPU 0 (training/device_run.sh, exported as a Q8_0 GGUF) while the
# CUDA libraries build on the CPUs, then the latency benchmarks and a kernel profile on GPU 1
# (scripts/cuda-device.sh). The benchmark shares the host with the training's data jobs (niced).
#   carry: .cache/device/{jre.txz,rbench.tgz,llama-src.tgz,llama-libs.tgz} (scripts/pack-device-bundle.sh)
#          and .cache/device/train (training/pack.sh --slim)
#   run:   export OUT; bash scripts/gpu-train-and-bench.sh
# Returns at most 8 files: model.gguf.NN (the trained model in 15 MiB pieces), train.tgz (log,
# results.json, data log), bench.tgz (CSVs, step timings, profiles, logs).
# Environment: LIMIT_S (580), STAGES and TRAIN_EXTRA (for the trainer), BENCH ("f16:131000,65536"),
#   PROFILE ("f16:65536"; empty for none), METHODS (strategies of the bench's second half).
set -u
limit=${LIMIT_S:-580}
end=$(( $(date +%s) + limit ))
G=/tmp/gtb; mkdir -p $G/train $G/bench
(CUDA_VISIBLE_DEVICES=0 OUT=$G/train DEADLINE_S=$((limit - 20)) EXPORT=Q8_0 MODEL_NAME=${MODEL_NAME:-rbench-longctx} \
  bash .cache/device/train/training/device_run.sh full > $G/train/device_run.log 2>&1) &
export BUNDLE=.cache/device WORK=$PWD/.cache/rbcuda
OUT=$G/bench BUILD_NICE=5 JOBS=${JOBS:-24} timeout 420 bash scripts/cuda-device.sh build aot > $G/bench/main.log 2>&1
CUDA_VISIBLE_DEVICES=1 OUT=$G/bench timeout 120 bash scripts/cuda-device.sh select:131000,65536 >> $G/bench/main.log 2>&1
IFS=: read -r btype bctx <<<"${BENCH:-f16:131000,65536}"
profile=${PROFILE-f16:65536}
# the benchmark gets the time left but the profile's share (about 90 s)
pshare=0; [ -n "$profile" ] && pshare=90
share=$(( end - $(date +%s) - pshare - 10 ))
CUDA_VISIBLE_DEVICES=1 OUT=$G/bench BENCH_DEADLINE=$(( $(date +%s) + share )) timeout $((share + 5)) \
  bash scripts/cuda-device.sh bench:$btype:$bctx >> $G/bench/main.log 2>&1
[ -n "$profile" ] && CUDA_VISIBLE_DEVICES=1 OUT=$G/bench timeout $(( end - $(date +%s) - 5 )) \
  bash scripts/cuda-device.sh profile:$profile >> $G/bench/main.log 2>&1
wait
grep -v "^WARNING" $G/bench/main.log | grep -v "^[0-9.]*[KMG]\?\s/" | tail -30
grep -a "stage\|probe\|eval \|trained\|device_run\|perplexity" $G/train/train.log $G/train/device_run.log 2>/dev/null | tail -45
mv $G/train/model.gguf.* "$OUT"/ 2>/dev/null
tar czf "$OUT/train.tgz" -C $G train; tar czf "$OUT/bench.tgz" -C $G bench
ls -la "$OUT"
