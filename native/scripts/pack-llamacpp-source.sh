#!/usr/bin/env bash
# Packs the part of the pinned llama.cpp source that a CMake build of the libraries needs
# and scripts/build-llama-bench.sh needs (no models or docs; of the tests only test-backend-ops, for
# cuda-device.sh's ops-test; the tools but the server, its web UI and the CLI) into one .tgz, for machines that cannot run npm
# (e.g. a GPU machine without network): unpack it there as
#   $RBENCH_NATIVE_HOME/llama.cpp-VERSION/src   and run build-llamacpp.sh.
# Usage: pack-llamacpp-source.sh OUT.tgz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$repo/pom.xml")
home=${RBENCH_NATIVE_HOME:-$repo/.native}
base="$home/llama.cpp-$version"
out=${1:?usage: pack-llamacpp-source.sh OUT.tgz}
[ -d "$base/src" ] || bash "$here/install-llamacpp.sh"
# the source as published: a build elsewhere applies the patches itself (apply-patches.sh), and cannot on a
# tree that already carries them (a local CUDA or Metal build patches this one in place)
first=$(ls "$base/src"/.node-llama-cpp/patches/*.diff "$here"/../patches/*.diff 2>/dev/null | head -1)
if [ -f "$base/src/.rbench-patches" ] || { [ -n "$first" ] &&
    ! (cd "$base/src" && GIT_CEILING_DIRECTORIES=$base git apply --check "$first" 2>/dev/null); }; then
  echo "pack-llamacpp-source: $base/src is patched; unpack it again (rm -rf $base/src; bash native/scripts/install-llamacpp.sh)" >&2
  exit 4
fi
tar czf "$out" -C "$base" --exclude='src/ggml/src/ggml-*/kompute*' --exclude=src/tools/server --exclude=src/tools/ui \
  --exclude=src/tools/cli src/CMakeLists.txt src/cmake src/ggml src/src src/include src/common src/vendor src/licenses \
  src/.node-llama-cpp src/tools src/tests/test-backend-ops.cpp 2>/dev/null || \
tar czf "$out" -C "$base" src/CMakeLists.txt src/cmake src/ggml src/src src/include src/common src/vendor \
  src/licenses src/.node-llama-cpp
echo "pack-llamacpp-source: $(du -h "$out" | cut -f1) in $out (llama.cpp-$version)" >&2
