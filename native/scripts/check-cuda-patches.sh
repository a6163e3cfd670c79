#!/usr/bin/env bash
# Compiles the ggml-cuda sources that the suite's patches change (native/patches), patched, with an
# nvcc on this machine: about a minute here (2 cores), before a GPU machine's build spends minutes of device time
# there. Nothing is linked and nothing runs (cuda-device.sh ops-test runs the kernels against the
# CPU). A CUDA compiler without cuBLAS (e.g. /usr/local/cuda from the nvidia-cuda-nvcc wheel) is
# enough: a stub of the cuBLAS names ggml-cuda mentions stands in for cublas_v2.h.
# Usage: check-cuda-patches.sh [FILE.cu ...]  (paths under ggml/src/ggml-cuda; default: each patched
#   .cu, and for each patched .cuh a template instance that includes it, the F16 one where there is one)
# Environment: NVCC (default: nvcc on PATH, then /usr/local/cuda*/bin/nvcc), CUDA_ARCH (90), JOBS (nproc),
#   RBENCH_NATIVE_HOME (default .native: the pinned source, installed by the build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$repo/pom.xml")
base="${RBENCH_NATIVE_HOME:-$repo/.native}/llama.cpp-$version"
[ -d "$base/src" ] || bash "$here/install-llamacpp.sh"
nvcc=${NVCC:-$(command -v nvcc || ls -d /usr/local/cuda*/bin/nvcc 2>/dev/null | sort -V | tail -1 || true)}
[ -n "$nvcc" ] && [ -x "$nvcc" ] || { echo "check-cuda-patches: no nvcc (set NVCC)" >&2; exit 3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/stub"
cp -r "$base/src" "$work/src"
bash "$here/apply-patches.sh" "$work/src" check-cuda-patches
cuda=$work/src/ggml/src/ggml-cuda

if ! echo '#include <cublas_v2.h>' | "$nvcc" -x cu -E - >/dev/null 2>&1; then
  cat > "$work/stub/cublas_v2.h" <<'EOF'
// compile-check stub: the cuBLAS names ggml-cuda mentions, enough to compile, never to link
#pragma once
#include <cuda_runtime.h>
#include <library_types.h>
typedef struct cublasContext * cublasHandle_t;
typedef enum { CUBLAS_STATUS_SUCCESS = 0 } cublasStatus_t;
typedef enum { CUBLAS_COMPUTE_16F = 64, CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 } cublasComputeType_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;
typedef enum { CUBLAS_GEMM_DEFAULT = -1, CUBLAS_GEMM_DEFAULT_TENSOR_OP = 99 } cublasGemmAlgo_t;
typedef enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TENSOR_OP_MATH = 1, CUBLAS_TF32_TENSOR_OP_MATH = 3 } cublasMath_t;
#define CHECK_CUDA_PATCHES_STUB(name) template <typename... A> cublasStatus_t name(A...);
CHECK_CUDA_PATCHES_STUB(cublasCreate) CHECK_CUDA_PATCHES_STUB(cublasDestroy) CHECK_CUDA_PATCHES_STUB(cublasSetMathMode)
CHECK_CUDA_PATCHES_STUB(cublasSetStream) CHECK_CUDA_PATCHES_STUB(cublasSgemm) CHECK_CUDA_PATCHES_STUB(cublasGemmEx)
CHECK_CUDA_PATCHES_STUB(cublasGemmBatchedEx) CHECK_CUDA_PATCHES_STUB(cublasGemmStridedBatchedEx)
const char * cublasGetStatusString(cublasStatus_t);
EOF
  echo "check-cuda-patches: no cuBLAS headers; a stub stands in" >&2
fi

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  for f in $(sed -n 's:^+++ b/ggml/src/ggml-cuda/::p' "$repo"/native/patches/*.diff | sort -u); do
    case $f in
      *.cu) files+=("$f") ;;
      # an F16 instance where there is one: the suite's kernel variants are F16 (flash attention's F16 K/V)
      *.cuh) inst=$(cd "$cuda" && grep -l "include \"\(\.\./\)\?$f\"" template-instances/*.cu 2>/dev/null \
               | awk '/-f16-f16[.]cu$/ { f16 = $0 } NR == 1 { first = $0 } END { print (f16 != "" ? f16 : first) }' || true)
             [ -n "$inst" ] && files+=("$inst") ;;
    esac
  done
fi

# the flags and definitions of ggml-cuda's CMake build for a CUDA release build
flags=(-std=c++17 -O3 -use_fast_math -extended-lambda "-arch=sm_${CUDA_ARCH:-90}" -I"$work/stub"
       -I"$work/src/ggml/include" -I"$work/src/ggml/src" -I"$cuda"
       -DGGML_USE_CUDA -DGGML_CUDA_USE_GRAPHS -DGGML_SCHED_MAX_COPIES=4 -DNDEBUG)
echo "check-cuda-patches: $("$nvcc" --version | tail -2 | head -1); ${#files[@]} files: ${files[*]}" >&2
printf '%s\n' "${files[@]}" | xargs -P "${JOBS:-$(nproc)}" -I{} sh -c '
  if "$0" "$@" -c "'"$cuda"'/{}" -o /dev/null > "'"$work"'/$(echo {} | tr / _).log" 2>&1; then
    echo "check-cuda-patches: {} compiles"
  else
    cat "'"$work"'/$(echo {} | tr / _).log"; echo "check-cuda-patches: {} FAILED"; exit 1
  fi' "$nvcc" "${flags[@]}"
