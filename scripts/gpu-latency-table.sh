#!/usr/bin/env bash
# The CUDA latency table for Llama-3.1-8B shapes (F16 and Q8_0), one or more device calls
# (the command behind docs/results/*-cuda-*-8b.md): the CUDA build runs while the models are
# generated with the npm CPU libraries, then quick parity, then the benchmarks: side by side,
# one type per GPU, on a machine with two GPUs; one after the other, each within its share of
# the time, on one GPU.
#
# Everything lives in WORK (default .cache/rbcuda, git-ignored, inside the checkout), which the
# device tool keeps while the machine stays warm. A second call on the same machine therefore
# skips the build and the models and resumes the benchmarks: rows already in the CSVs are
# not measured again.
#   carry: .cache/device/{jre.txz,rbench.tgz,llama-src.tgz,llama-libs.tgz} (scripts/pack-device-bundle.sh;
#          llama-libs.tgz = tar czf of .native/llama.cpp-<v>/lib/linux-x64)
#   run:   export OUT; bash scripts/gpu-latency-table.sh [CTX_LIST]     (default 131000,65536,32768,8192)
# Environment: LIMIT_S (seconds this call may take, default 580), PARITY (quick|full|none,
#   default quick), TYPES (default "f16 q8_0"), GPUS (the GPU ids the benchmarks may use, one
#   type per GPU, e.g. "2 3" while GPUs 0 and 1 train; default every GPU nvidia-smi lists),
#   BENCHES (TYPE:CTX,CTX jobs, one per GPU in GPUS order, e.g. "f16:131000,65536 f16:32768,8192
#   q8_0:131000,65536 q8_0:32768,8192"; default with two or more GPUs: one type per GPU, every
#   length; each job's CSVs carry its index, bench-8b-TYPE-I-*.csv),
#   BENCH_PARTS (see cuda-device.sh: "engine methods" by default), METHODS (the methods half's
#   list), SELECT (yes|no: the one-layer selection benchmark), CPU_LIBS (see below).
set -u
C=${1:-131000,65536,32768,8192}
limit=${LIMIT_S:-580}
W=${WORK:-$PWD/.cache/rbcuda}; mkdir -p $W/out $W/cpulibs $W/models
# CPU_LIBS: the llama.cpp CPU libraries that make the models (training/pack.sh --slim's
# llama-libs-min.tgz, the generic variant only, does too and leaves room in the carry)
cpu_libs=${CPU_LIBS:-.cache/device/llama-libs.tgz}
[ -f $W/cpulibs/libggml-base.so ] || tar xzf "$cpu_libs" -C $W/cpulibs
[ -d $W/jre ] || tar xf .cache/device/jre.txz -C $W
[ -d $W/rbench ] || tar xzf .cache/device/rbench.tgz -C $W
mk() {
  [ -f "$W/models/llama-3.1-8b-$1.gguf" ] && return 0
  RBENCH_LLAMACPP_DIR=$W/cpulibs nice -n 10 $W/jre/bin/java --enable-native-access=ALL-UNNAMED -jar $W/rbench/rbench.jar \
    make-model --like llama-3.1-8b --type "$1" --out "$W/models/llama-3.1-8b-$1.gguf.tmp" \
    && mv "$W/models/llama-3.1-8b-$1.gguf.tmp" "$W/models/llama-3.1-8b-$1.gguf"
}
types=${TYPES:-f16 q8_0}
(for t in $types; do mk $t; done) >> $W/out/models-8b.log 2>&1 &
export BUNDLE=.cache/device WORK=$W
gpus=(${GPUS:-$(seq 0 $(( $(nvidia-smi -L 2>/dev/null | wc -l) - 1 )))})
# the steps before the benchmarks (build check, AOT recording, parity, selection) on the first
export CUDA_VISIBLE_DEVICES=${gpus[0]}
OUT=$W/out timeout 420 bash scripts/cuda-device.sh build aot >> $W/out/main.log 2>&1
case ${PARITY:-quick} in
  quick) OUT=$W/out PARITY=quick timeout 150 bash scripts/cuda-device.sh parity >> $W/out/main.log 2>&1 ;;
  full) OUT=$W/out timeout 300 bash scripts/cuda-device.sh parity >> $W/out/main.log 2>&1 ;;
esac
# the pieces of a Recycled full step, one layer (seconds; no model needed)
[ "${SELECT:-yes}" = yes ] && OUT=$W/out timeout 120 bash scripts/cuda-device.sh select:131000,65536 >> $W/out/main.log 2>&1
wait
end=$(( $(date +%s) + limit - SECONDS ))
# two or more GPUs: one job per GPU (by default one type, every length)
[ -z "${BENCHES:-}" ] && [ "${#gpus[@]}" -ge 2 ] && BENCHES=$(for t in $types; do printf '%s:%s ' "$t" "$C"; done)
if [ -n "${BENCHES:-}" ]; then
  i=0
  for job in $BENCHES; do
    # BENCH_TAG: each job appends to CSVs of its own (two processes must not append to one file)
    (CUDA_VISIBLE_DEVICES=${gpus[$i]} OUT=$W/out BENCH_TAG=-$i BENCH_DEADLINE=$end timeout $((end - $(date +%s) + 5)) \
      bash scripts/cuda-device.sh bench:$job > $W/out/bench-$i.log 2>&1) &
    i=$(( (i + 1) % ${#gpus[@]} ))
  done
  wait
else
  n=$(echo $types | wc -w)
  for t in $types; do
    share=$(( (end - $(date +%s)) / n )); n=$((n - 1))
    OUT=$W/out BENCH_DEADLINE=$(( $(date +%s) + share )) timeout $((share + 5)) \
      bash scripts/cuda-device.sh bench:$t:$C >> $W/out/$t.log 2>&1
  done
fi
cat $W/out/steps.log $W/out/parity-summary.txt $W/out/select.log 2>/dev/null; grep -hv "^WARNING" $W/out/f16.log $W/out/q8_0.log $W/out/bench-?.log 2>/dev/null | tail -80
# one archive: the device tool returns at most 8 files
tar czf "$OUT/latency.tgz" -C $W out; ls -la "$OUT"; echo "total $SECONDS s"
