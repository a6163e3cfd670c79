#!/usr/bin/env bash
# The CUDA latency table in one device call on a machine with two GPUs (the command behind
# docs/results/2026-11-28-cuda-h200-8b.md): the CUDA build runs while the Llama-3.1-8B-shaped
# models are generated with the npm CPU libraries, then diag + quick parity, then the F16 and
# Q8_0 benchmarks side by side, one per GPU.
#   carry: .cache/device/{jre.txz,rbench.tgz,llama-src.tgz,llama-libs.tgz} (scripts/pack-device-bundle.sh;
#          llama-libs.tgz = tar czf of .native/llama.cpp-<v>/lib/linux-x64)
#   run:   export OUT; bash scripts/gpu-latency-table.sh [CTX_LIST]     (default 131000,65536,32768,8192)
set -u
C=${1:-131000,65536,32768,8192}
W=/tmp/rbcuda; mkdir -p $W/out $W/cpulibs $W/models
tar xzf .cache/device/llama-libs.tgz -C $W/cpulibs; tar xf .cache/device/jre.txz -C $W; tar xzf .cache/device/rbench.tgz -C $W
mk() {
  RBENCH_LLAMACPP_DIR=$W/cpulibs nice -n 10 $W/jre/bin/java --enable-native-access=ALL-UNNAMED -jar $W/rbench/rbench.jar \
    make-model --like llama-3.1-8b --type "$1" --out "$W/models/llama-3.1-8b-$1.gguf.tmp" \
    && mv "$W/models/llama-3.1-8b-$1.gguf.tmp" "$W/models/llama-3.1-8b-$1.gguf"
}
(mk f16; mk q8_0) > $W/out/models-8b.log 2>&1 &
export BUNDLE=.cache/device WORK=$W
OUT=$W/out timeout 400 bash scripts/cuda-device.sh build > $W/out/main.log 2>&1
OUT=$W/out PARITY=quick timeout 150 bash scripts/cuda-device.sh diag parity >> $W/out/main.log 2>&1
wait
export BENCH_DEADLINE=$(( $(date +%s) + 580 - SECONDS ))
(CUDA_VISIBLE_DEVICES=0 OUT=$W/out timeout $((585 - SECONDS)) bash scripts/cuda-device.sh bench:f16:$C > $W/out/f16.log 2>&1) &
(CUDA_VISIBLE_DEVICES=1 OUT=$W/out timeout $((585 - SECONDS)) bash scripts/cuda-device.sh bench:q8_0:$C > $W/out/q8_0.log 2>&1) &
wait
cat $W/out/steps.log $W/out/parity-summary.txt 2>/dev/null; grep -v "^WARNING" $W/out/f16.log $W/out/q8_0.log | tail -40
cp $W/out/*.csv "$OUT"/ 2>/dev/null; tar czf "$OUT/logs.tgz" --exclude='*.csv' -C $W out; ls -la "$OUT"; echo "total $SECONDS s"
