#!/usr/bin/env bash
# Builds stock llama-bench (tools/llama-bench) from the pinned llama.cpp source, the reference
# `rbench bench --methods ...,llama-bench` runs beside the engine. Idempotent: a built binary is
# kept and its path printed (--rebuild builds again).
#
# Usage: scripts/build-llama-bench.sh [--backend cpu|cuda] [--cuda-arch 90] [--jobs N] [--libs source|prebuilt] [--rebuild]
# Output: .native/llama.cpp-VERSION/llama-bench-BACKEND/bin/llama-bench (printed on stdout), the
# path `rbench bench` looks at (RBENCH_LLAMA_BENCH=FILE or --llama-bench FILE point it elsewhere).
#
# --libs prebuilt (CUDA): llama-bench built in the suite's own CUDA build tree (build-llamacpp.sh's
# build-cuda, reconfigured with the tools on; ggml is not compiled again), into
# .native/llama.cpp-VERSION/llama-bench-cuda/bin/ beside links to the suite's CUDA libraries: seconds,
# where --libs source compiles ggml-cuda a second time (about 4 minutes on 16 cores).
# --libs prebuilt (CPU): only llama-bench's own two files are compiled, against the libraries the suite
# runs in-process (.native/llama.cpp-VERSION/lib/PLATFORM, the npm prebuilt: its libllama-common too),
# into .native/llama.cpp-VERSION/llama-bench-cpu-prebuilt/bin/, beside links to those libraries (ggml
# loads its CPU variants from the binary's folder). Then llama-bench, the engine and `llamacpp` run the
# same ggml CPU code, built once: a ratio between them is the code that calls it. About a minute.
#
# The build is llama.cpp's own default (a Release build for this CPU, GGML_NATIVE, shared libraries
# beside the binary) with two departures, both so that it times the same code as the libraries the
# suite runs in-process (native/scripts/build-llamacpp.sh and the npm prebuilt): GGML_OPENMP=OFF
# (ggml's own threadpool, not OpenMP's) and the patches build-llamacpp.sh applies (node-llama-cpp's
# touch model loading only; the suite's, in native/patches, change CUDA kernels of get_rows on short
# rows, top_k on long rows, argsort of rows of 1,025 to 8,192 columns and soft_max on few long rows,
# which a dense model's decode with flash attention does not run, and opt-in flash-attention kernels for a
# decoded token, GGML_CUDA_FA_GQA_MMA_KV and GGML_CUDA_FA_VEC_GQA: native/README.md).
# Network clients (curl, OpenSSL), the server and the tests are left out.
# On a GPU machine without network, scripts/cuda-device.sh's llama-bench step runs this with --backend cuda
# from the source subset that scripts/pack-device-bundle.sh carries.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$root/pom.xml")
home=${RBENCH_NATIVE_HOME:-$root/.native}
base="$home/llama.cpp-$version"
src="$base/src"

backend=cpu; cuda_arch=90; jobs=$(nproc 2>/dev/null || echo 2); rebuild=0; libs=source
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --cuda-arch) cuda_arch=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --rebuild) rebuild=1; shift ;;
    --libs) libs=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build-llama-bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

case "$libs-$backend" in
  source-*) build="$base/llama-bench-$backend" ;;
  prebuilt-cpu) build="$base/llama-bench-cpu-prebuilt" ;;
  prebuilt-cuda) build="$base/llama-bench-cuda" ;;
  prebuilt-*) echo "build-llama-bench: --libs prebuilt is for cpu (the npm libraries) and cuda (the suite's CUDA build)" >&2; exit 2 ;;
  *) echo "build-llama-bench: --libs must be source or prebuilt, not '$libs'" >&2; exit 2 ;;
esac
bin="$build/bin/llama-bench"
# a binary that cannot find its libraries (e.g. built where a runpath pointed elsewhere) is built again
if [ $rebuild = 0 ] && [ -x "$bin" ] && ! ldd "$bin" 2>/dev/null | grep -q "not found"; then
  echo "build-llama-bench: already built ($bin; --rebuild builds again)" >&2
  echo "$bin"
  exit 0
fi

[ -d "$src" ] || bash "$root/native/scripts/install-llamacpp.sh"
[ -f "$src/tools/llama-bench/llama-bench.cpp" ] || {
  echo "build-llama-bench: $src has no tools/llama-bench (a source subset packed before it was added: pack it again" \
       "with scripts/pack-device-bundle.sh)" >&2; exit 3; }
if [ "$libs" = prebuilt ] && [ "$backend" = cuda ]; then
  # The suite's own CUDA build tree (native/scripts/build-llamacpp.sh --backend cuda), reconfigured with
  # llama.cpp's tools on: ggml's compiled objects are reused (the tools do not change its flags), so only
  # llama-bench and libllama-common are compiled, and llama-bench loads the very libraries the engine does.
  suite_build="$base/build-cuda"
  lib="$base/lib/linux-x64-cuda"
  [ -f "$suite_build/CMakeCache.txt" ] && [ -f "$lib/libggml-cuda.so" ] || {
    echo "build-llama-bench: no CUDA build of the suite's libraries in $suite_build and $lib" \
         "(native/scripts/build-llamacpp.sh --backend cuda; --libs source builds llama-bench on its own)" >&2; exit 3; }
  command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
  mkdir -p "$build/bin"
  t0=$SECONDS
  cmake -S "$src" -B "$suite_build" -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON >"$build/configure.log" 2>&1 \
    || { tail -30 "$build/configure.log" >&2; exit 5; }
  cmake --build "$suite_build" -j "$jobs" --target llama-bench >"$build/build.log" 2>&1 || { tail -40 "$build/build.log" >&2; exit 6; }
  cp "$suite_build/bin/llama-bench" "$bin.tmp" && mv "$bin.tmp" "$bin"
  # its runpath is $ORIGIN: the suite's libraries beside it (relative links), and those it adds (libllama-common,
  # libllama-bench-impl)
  for so in "$lib"/*.so*; do ln -sfn "../../lib/linux-x64-cuda/$(basename "$so")" "$build/bin/"; done
  for so in "$suite_build"/bin/lib*.so*; do [ -e "$lib/$(basename "$so")" ] || cp -a "$so" "$build/bin/"; done
  ldd "$bin" | grep -q "not found" && { ldd "$bin" >&2; echo "build-llama-bench: $bin misses libraries" >&2; exit 6; }
  echo "build-llama-bench: built in the suite's CUDA build in $((SECONDS - t0)) s: $bin" >&2
  echo "$bin"
  exit 0
fi
if [ "$libs" = prebuilt ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x64 ;; Linux-aarch64) platform=linux-arm64 ;;
    *) echo "build-llama-bench: --libs prebuilt is for Linux" >&2; exit 2 ;;
  esac
  lib="$base/lib/$platform"
  [ -f "$lib/libllama-common.so" ] || { echo "build-llama-bench: no prebuilt libraries in $lib (native/scripts/install-llamacpp.sh)" >&2; exit 3; }
  command -v g++ >/dev/null || { echo "build-llama-bench: g++ is required (apt-get install g++)" >&2; exit 3; }
  mkdir -p "$build/bin"
  # relative links: the native home may be reached through different paths (a symlink per worktree)
  for so in "$lib"/*.so; do ln -sfn "../../lib/$platform/$(basename "$so")" "$build/bin/"; done
  t0=$SECONDS
  g++ -O3 -DNDEBUG -std=c++17 -I"$src/include" -I"$src/ggml/include" -I"$src/common" -I"$src/vendor" \
    "$src/tools/llama-bench/llama-bench.cpp" "$src/tools/llama-bench/main.cpp" -o "$bin.tmp" -L"$lib" \
    -l:libllama-common.so "-l:$(basename "$(ls "$lib"/libllama.*so | head -1)")" "-l:$(basename "$(ls "$lib"/libggml.*so | head -1)")" \
    -l:libggml-base.so -Wl,-rpath,'$ORIGIN' -pthread >"$build/build.log" 2>&1 || { tail -30 "$build/build.log" >&2; exit 6; }
  mv "$bin.tmp" "$bin"
  echo "build-llama-bench: built against $lib in $((SECONDS - t0)) s: $bin" >&2
  echo "$bin"
  exit 0
fi
command -v cmake >/dev/null || { echo "build-llama-bench: cmake is required (apt-get install cmake g++)" >&2; exit 3; }

# the patches build-llamacpp.sh applies, so that both build the same source
bash "$root/native/scripts/apply-patches.sh" "$src" build-llama-bench

flags=(-DCMAKE_BUILD_TYPE=Release -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON
  # runpath $ORIGIN: the binary finds its libraries beside it, whatever path reaches the native home
  -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON)
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
