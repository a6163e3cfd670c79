#!/usr/bin/env bash
# Builds stock llama-bench (tools/llama-bench) from the pinned llama.cpp source, the reference
# `rbench bench --methods ...,llama-bench` runs beside the engine. Idempotent: a built binary is
# kept and its path printed (--rebuild builds again).
#
# Usage: scripts/build-llama-bench.sh [--backend cpu|cuda] [--cuda-arch 90] [--jobs N] [--rebuild]
# Output: .native/llama.cpp-VERSION/llama-bench-BACKEND/bin/llama-bench (printed on stdout), the
# path `rbench bench` looks at first (RBENCH_LLAMA_BENCH=FILE or --llama-bench FILE point it elsewhere).
#
# The build is llama.cpp's own default (a Release build for this CPU, GGML_NATIVE, shared libraries
# beside the binary) with two departures, both so that it times the same code as the libraries the
# suite runs in-process (native/scripts/build-llamacpp.sh and the npm prebuilt): GGML_OPENMP=OFF
# (ggml's own threadpool, not OpenMP's) and node-llama-cpp's patches applied (they touch model loading
# only). Network clients (curl, OpenSSL), the server and the tests are left out.
# On a GPU machine without network, scripts/cuda-device.sh's llama-bench step runs this with --backend cuda
# from the source subset that scripts/pack-device-bundle.sh carries.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$root/pom.xml")
home=${RBENCH_NATIVE_HOME:-$root/.native}
base="$home/llama.cpp-$version"
src="$base/src"

backend=cpu; cuda_arch=90; jobs=$(nproc 2>/dev/null || echo 2); rebuild=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --cuda-arch) cuda_arch=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --rebuild) rebuild=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-llama-bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

build="$base/llama-bench-$backend"
bin="$build/bin/llama-bench"
if [ $rebuild = 0 ] && [ -x "$bin" ]; then
  echo "build-llama-bench: already built ($bin; --rebuild builds again)" >&2
  echo "$bin"
  exit 0
fi

[ -d "$src" ] || bash "$root/native/scripts/install-llamacpp.sh"
[ -f "$src/tools/llama-bench/llama-bench.cpp" ] || {
  echo "build-llama-bench: $src has no tools/llama-bench (a source subset packed before it was added: pack it again" \
       "with scripts/pack-device-bundle.sh)" >&2; exit 3; }
command -v cmake >/dev/null || { echo "build-llama-bench: cmake is required (apt-get install cmake g++)" >&2; exit 3; }

# node-llama-cpp's patches, as build-llamacpp.sh applies them (the ceiling keeps git apply from
# finding this checkout's repository around the source, where it would skip every path)
export GIT_CEILING_DIRECTORIES=$(dirname "$src")
for p in "$src"/.node-llama-cpp/patches/*.diff; do
  [ -f "$p" ] || continue
  if (cd "$src" && git apply --check "$p" 2>/dev/null); then
    (cd "$src" && git apply "$p") && echo "build-llama-bench: applied $(basename "$p")" >&2
  elif ! (cd "$src" && git apply --reverse --check "$p" 2>/dev/null); then
    echo "build-llama-bench: patch $(basename "$p") neither applies nor is applied" >&2; exit 4
  fi
done

flags=(-DCMAKE_BUILD_TYPE=Release -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON)
case "$backend" in
  cpu) ;;
  cuda) command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "build-llama-bench: CUDA needs nvcc" >&2; exit 3; }
        command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
        flags+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$cuda_arch") ;;
  *) echo "build-llama-bench: unknown backend '$backend' (cpu, cuda)" >&2; exit 2 ;;
esac

echo "build-llama-bench: configuring $backend in $build" >&2
mkdir -p "$build"
cmake -S "$src" -B "$build" "${flags[@]}" >"$build/configure.log" 2>&1 || { tail -30 "$build/configure.log" >&2; exit 5; }
t0=$SECONDS
cmake --build "$build" -j "$jobs" --target llama-bench >"$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 6; }
[ -x "$bin" ] || { echo "build-llama-bench: the build left no $bin" >&2; exit 6; }
echo "build-llama-bench: built in $((SECONDS - t0)) s: $bin" >&2
echo "$bin"
