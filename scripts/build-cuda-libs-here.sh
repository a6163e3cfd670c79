#!/usr/bin/env bash
# Builds the suite's CUDA libraries (sm_90) on this machine, which has no GPU, so that a device call can carry them
# instead of building them there (about 215 s of a session's 1,800 s of device time). The CUDA toolkit comes from
# NVIDIA's wheels on the package registry (nvcc, runtime, CCCL, CRT, NVVM, cuBLAS; downloaded by pip, never installed);
# a stub libcuda.so.1 carries the driver's names that ggml-cuda links (the device's own driver serves them). The
# source is the pinned llama.cpp with native/patches, and with WITH_PENDING=1 native/patches/pending too, as a device
# call that copies them in builds it. Then the libraries as cuda-libs pieces and a bundle with them
# (made by scripts/pack-libs-bundle.sh, plus the patched test source for ops-test and the kernel timer).
#
#   scripts/build-cuda-libs-here.sh [OUT]        (OUT: .cache/device-libs; run scripts/pack-device-bundle.sh first)
#   WITH_PENDING=1 scripts/build-cuda-libs-here.sh
#
# About 18 minutes on 2 cores. Needs pip (downloads only), gcc/g++, cmake, strip and xz. The libraries need
# GLIBCXX_3.4.30 and GLIBC_2.34 where they load (this machine: GCC 12, glibc 2.36); cuda-device.sh's build step runs
# ldd over carried libraries and says when they cannot load. A call carrying OUT copies the same pending patches into
# native/patches before `build` (the libraries' rbench-patches.txt must match).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.cache/device-libs}
cache=$root/.cache
wheels=$cache/cuda-wheels
toolkit=$cache/cuda-toolkit/nvidia/cu13
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$root/pom.xml")
fail() { echo "build-cuda-libs-here: $*" >&2; exit 1; }
for tool in pip gcc g++ cmake strip xz; do command -v $tool >/dev/null || fail "$tool is required"; done
[ -f "$cache/device/jre.txz" ] && [ -f "$cache/device/rbench.tgz" ] || fail "no $cache/device: run scripts/pack-device-bundle.sh first"

# 1. the toolkit: the wheels unpacked into one tree (they share nvidia/cu13), laid out as CMake's FindCUDAToolkit reads it
if [ ! -x "$toolkit/bin/nvcc" ]; then
  mkdir -p "$wheels"
  pip download --no-deps -q -d "$wheels" nvidia-cuda-nvcc==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 \
    nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 nvidia-cublas==13.1.1.3 2>&1 | grep -v "Retrying\|ignored" || true
  for w in nvidia_cuda_nvcc nvidia_cuda_runtime nvidia_cuda_cccl nvidia_cuda_crt nvidia_nvvm nvidia_cublas; do
    ls "$wheels"/$w-*.whl >/dev/null 2>&1 || fail "pip did not download $w"
  done
  rm -rf "$cache/cuda-toolkit" && mkdir -p "$cache/cuda-toolkit"
  for w in "$wheels"/*.whl; do (cd "$cache/cuda-toolkit" && python3 -m zipfile -e "$w" .); done
  chmod +x "$toolkit"/bin/* "$toolkit"/nvvm/bin/* 2>/dev/null || true
  (cd "$toolkit/lib" && ln -sf libcudart.so.13 libcudart.so && ln -sf libcublas.so.13 libcublas.so && ln -sf libcublasLt.so.13 libcublasLt.so)
  ln -sfn lib "$toolkit/lib64"
  mkdir -p "$toolkit/targets/x86_64-linux" "$toolkit/lib/stubs"
  ln -sfn ../../include "$toolkit/targets/x86_64-linux/include"
  ln -sfn ../../lib "$toolkit/targets/x86_64-linux/lib"
  # the driver API names ggml-cuda calls (its VMM pool), linked by soname; never run here
  stub=$(mktemp --suffix=.c)
  for s in cuDeviceGet cuDeviceGetAttribute cuGetErrorString cuMemAddressFree cuMemAddressReserve cuMemCreate \
           cuMemGetAllocationGranularity cuMemMap cuMemRelease cuMemSetAccess cuMemUnmap cuGetProcAddress cuInit \
           cuDriverGetVersion; do
    echo "int $s(void) { return 999; }"
  done >"$stub"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$toolkit/lib/stubs/libcuda.so" "$stub" && rm -f "$stub"
fi

# 2. the build, in a tree of its own: a copy of native/ (the patches it applies, pending ones among them with
#    WITH_PENDING=1) and of the pinned source, so that this checkout's .native stays as the CPU build left it
work=$cache/cuda-build-here
rm -rf "$work/repo" && mkdir -p "$work/repo"
(cd "$root" && tar cf - native/scripts native/patches pom.xml scripts/patch-stamp.sh) | tar xf - -C "$work/repo"
if [ "${WITH_PENDING:-0}" = 1 ] && ls "$root"/native/patches/pending/*.diff >/dev/null 2>&1; then
  cp "$root"/native/patches/pending/*.diff "$work/repo/native/patches/"
fi
[ -d "$root/.native/llama.cpp-$version/src" ] || bash "$root/native/scripts/install-llamacpp.sh"
home=$work/native
rm -rf "$home/llama.cpp-$version" && mkdir -p "$home/llama.cpp-$version"
cp -r "$root/.native/llama.cpp-$version/src" "$home/llama.cpp-$version/src"
rm -f "$home/llama.cpp-$version/src/.rbench-patches"
t0=$SECONDS
PATH=$toolkit/bin:$PATH CUDAToolkit_ROOT=$toolkit CUDACXX=$toolkit/bin/nvcc RBENCH_NATIVE_HOME=$home \
  bash "$work/repo/native/scripts/build-llamacpp.sh" --backend cuda --cuda-arch "${CUDA_ARCH:-90}" --native-cpu \
  --jobs "${JOBS:-$(nproc)}" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "the build failed ($work/build.log)"; }
libs=$home/llama.cpp-$version/lib/linux-x64-cuda
bash "$work/repo/scripts/patch-stamp.sh" >"$libs/rbench-patches.txt"
echo "build-cuda-libs-here: built in $((SECONDS - t0)) s: $(ls "$libs" | tr '\n' ' ')" >&2

# 3. the pieces, as cuda-device.sh's libs step packs them (the libraries' path under the native home, stripped), and
#    the bundle pack-libs-bundle.sh makes of them, checked against the patches they were built from
copy=$work/stripped
pieces=$work/pieces
rm -rf "$copy" "$pieces" && mkdir -p "$copy/lib" "$pieces"
cp -a "$libs" "$copy/lib/"
find "$copy" -type f -name '*.so*' -exec strip --strip-unneeded {} +
(cd "$copy" && tar cf - . | xz -T0 -6) | split -b 15m -d - "$pieces/cuda-libs.txz."
rm -rf "$copy"
PATCH_STAMP=$work/repo/scripts/patch-stamp.sh bash "$root/scripts/pack-libs-bundle.sh" "$pieces" "$out" >/dev/null
rm -rf "$pieces"
[ -f "$cache/device/kernel-times.txz" ] && cp "$cache/device/kernel-times.txz" "$out/"
# ops-test compiles test-backend-ops from ggml's headers and the test, patched as these libraries are
tar czf "$out/ops-test-src.tgz" -C "$home/llama.cpp-$version/src" ggml/include tests/test-backend-ops.cpp
carried=$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
[ "$carried" -le $((64 * 1024 * 1024)) ] || fail "$out holds $carried bytes: over the 64 MiB a device call carries"
echo "build-cuda-libs-here: $out ($((carried / 1024 / 1024)) MiB): carry it, BUNDLE=${out#"$root"/} bash scripts/cuda-device.sh build ...$([ "${WITH_PENDING:-0}" = 1 ] && echo " (after cp native/patches/pending/*.diff native/patches/)")"
