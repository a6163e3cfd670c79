#!/usr/bin/env bash
# Builds the pinned llama.cpp (ggml + libllama shared libraries) from the source bundle
# that install-llamacpp.sh unpacks, for one backend, applying node-llama-cpp's own patches
# (the prebuilt npm libraries carry them too) and the suite's (native/patches; apply-patches.sh).
#
# Usage: build-llamacpp.sh --backend cpu|cuda|metal [--cuda-arch 90] [--jobs N]
#                          [--native-cpu] [--configure-only] [--out DIR]
# --native-cpu: one generic CPU backend instead of every x86 variant
# (for libraries used only where they are built, e.g. a GPU machine: a shorter build)
# Output: DIR (default $RBENCH_NATIVE_HOME/llama.cpp-VERSION/lib/<platform>-<backend>)
# holding libggml-base, libggml, libllama and the backend libraries. Point the suite at it
# with RBENCH_LLAMACPP_DIR=DIR (or -Drbench.llamacpp.dir=DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$repo/pom.xml")
home=${RBENCH_NATIVE_HOME:-$repo/.native}
src="$home/llama.cpp-$version/src"

backend=cpu; cuda_arch=90; jobs=$(nproc 2>/dev/null || echo 2); configure_only=0; out=""; native_cpu=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --cuda-arch) cuda_arch=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --configure-only) configure_only=1; shift ;;
    --native-cpu) native_cpu=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-llamacpp: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

[ -d "$src" ] || bash "$here/install-llamacpp.sh"
command -v cmake >/dev/null || { echo "build-llamacpp: cmake is required (apt-get install cmake)" >&2; exit 3; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;; Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=mac-arm64 ;; *) platform=$(uname -s)-$(uname -m) ;;
esac
out=${out:-$home/llama.cpp-$version/lib/$platform-$backend}

bash "$here/apply-patches.sh" "$src" build-llamacpp

flags=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
  -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
  -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_OPENMP=OFF -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON)
if [ $native_cpu = 1 ]; then
  # GGML_NATIVE cannot go with GGML_BACKEND_DL: one generic x86-64 CPU backend (AVX2/FMA/F16C) instead
  flags=("${flags[@]/-DGGML_CPU_ALL_VARIANTS=ON/-DGGML_CPU_ALL_VARIANTS=OFF}")
fi
case "$backend" in
  cpu) ;;
  cuda) command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "build-llamacpp: CUDA needs nvcc" >&2; exit 3; }
        flags+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$cuda_arch") ;;
  metal) flags+=(-DGGML_METAL=ON -DGGML_METAL_EMBED_LIBRARY=ON) ;;
  *) echo "build-llamacpp: unknown backend '$backend' (cpu, cuda, metal)" >&2; exit 2 ;;
esac

build="$home/llama.cpp-$version/build-$backend"
echo "build-llamacpp: configuring $backend in $build" >&2
cmake -S "$src" -B "$build" "${flags[@]}" >"$build.configure.log" 2>&1 || { tail -30 "$build.configure.log" >&2; exit 5; }
[ $configure_only = 1 ] && { echo "build-llamacpp: configured (log: $build.configure.log)" >&2; exit 0; }
cmake --build "$build" -j "$jobs" --target llama >&2
mkdir -p "$out"
find "$build/bin" "$build" -maxdepth 2 \( -name 'lib*.so*' -o -name 'lib*.dylib' \) -exec cp -a {} "$out/" \; 2>/dev/null
echo "build-llamacpp: libraries in $out" >&2
echo "$out"
