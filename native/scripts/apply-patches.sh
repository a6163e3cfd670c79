#!/usr/bin/env bash
# Applies the patches a build of the pinned llama.cpp source takes, once (a patch already applied
# is left as it is): node-llama-cpp's own (its prebuilt npm libraries carry them), then the
# suite's (native/patches: faster CUDA kernels for ops the suite runs; see native/README.md).
# Usage: apply-patches.sh SRC NAME   (NAME prefixes the messages)
#
# A tree it patched carries SRC/.rbench-patches, the series it applied (names and checksums): a later
# call with the same series leaves the tree as it is, one with another series stops (exit 5) and asks for
# the source unpacked again. The series' patches touch the same lines, so a patched tree cannot be told
# apart patch by patch (an earlier patch neither applies nor reverses once a later one changed its lines).
set -euo pipefail
src=${1:?usage: apply-patches.sh SRC NAME}
name=${2:-apply-patches}
here=$(cd "$(dirname "$0")" && pwd)
# git apply works outside a repository, but inside one (the source tree sits under this checkout)
# it would silently skip every path: the ceiling stops git from finding the enclosing repository
export GIT_CEILING_DIRECTORIES=$(dirname "$src")
patches=()
for p in "$src"/.node-llama-cpp/patches/*.diff "$here"/../patches/*.diff; do
  [ -f "$p" ] && patches+=("$p")
done
series=$(for p in "${patches[@]}"; do echo "$(basename "$p") $(sha256sum <"$p" | cut -c1-16)"; done)
stamp=$src/.rbench-patches
if [ -f "$stamp" ]; then
  [ "$(cat "$stamp")" = "$series" ] && exit 0
  echo "$name: $src was patched with another version of the patches ($stamp); unpack the source again" >&2
  diff <(cat "$stamp") <(echo "$series") >&2 || true
  exit 5
fi
for p in "${patches[@]}"; do
  if (cd "$src" && git apply --check "$p" 2>/dev/null); then
    (cd "$src" && git apply "$p") && echo "$name: applied $(basename "$p")" >&2
  elif ! (cd "$src" && git apply --reverse --check "$p" 2>/dev/null); then
    echo "$name: patch $(basename "$p") neither applies nor is applied" >&2; exit 4
  fi
done
echo "$series" >"$stamp"
