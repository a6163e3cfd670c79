#!/usr/bin/env bash
# Installs the pinned llama.cpp build from the npm registry, with the npm client:
#   - @node-llama-cpp/<platform>@VERSION  prebuilt shared libraries (ggml, llama, CPU variants)
#   - node-llama-cpp@VERSION              the matching llama.cpp source (git bundle: headers,
#                                         vocabulary GGUFs, tokenizer test vectors, CMake build)
# Each tarball is fetched with `npm pack` (no dependencies, no install scripts) and checked
# against the SHA-512 pinned in llamacpp.sha512 before it is unpacked.
#
# Layout produced (idempotent; a stamp file marks a finished install):
#   $RBENCH_NATIVE_HOME/llama.cpp-VERSION/lib/<platform>/   shared libraries
#   $RBENCH_NATIVE_HOME/llama.cpp-VERSION/src/              llama.cpp source tree
# RBENCH_NATIVE_HOME defaults to <repo>/.native (git-ignored).
#
# Usage: install-llamacpp.sh [--platform linux-x64|mac-arm64-metal|...] [--no-source] [--force]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' "$repo/pom.xml")
home=${RBENCH_NATIVE_HOME:-$repo/.native}
dest="$home/llama.cpp-$version"

platform=""
with_source=1
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --platform) platform=$2; shift 2 ;;
    --no-source) with_source=0; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install-llamacpp: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if [ -z "$platform" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x64 ;;
    Linux-aarch64) platform=linux-arm64 ;;
    Darwin-arm64) platform=mac-arm64-metal ;;
    Darwin-x86_64) platform=mac-x64 ;;
    *) echo "install-llamacpp: no prebuilt llama.cpp for $(uname -s)-$(uname -m); build one with native/scripts/build-llamacpp.sh" >&2; exit 3 ;;
  esac
fi

command -v npm >/dev/null || { echo "install-llamacpp: npm is required (Debian: apt-get install npm)" >&2; exit 3; }

sums="$here/llamacpp.sha512"
expected_sum() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }

# fetch PACKAGE TARBALL_NAME: npm pack into a temp dir, verify, echo the path
fetch() {
  local spec=$1 tarball=$2 want got
  want=$(expected_sum "$tarball")
  if [ -z "$want" ]; then
    echo "install-llamacpp: no pinned checksum for $tarball in $sums" >&2; exit 4
  fi
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  got=$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tmp/$tarball")
  if [ "$got" != "$want" ]; then
    echo "install-llamacpp: checksum mismatch for $tarball (got $got, want $want)" >&2; exit 4
  fi
  echo "$tmp/$tarball"
}

mkdir -p "$dest"
lock="$dest/.install.lock"
exec 9>"$lock"
flock 9

lib_stamp="$dest/lib/$platform/.installed"
if [ $force = 1 ] || [ ! -f "$lib_stamp" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  echo "install-llamacpp: fetching @node-llama-cpp/$platform@$version" >&2
  tgz=$(fetch "@node-llama-cpp/$platform@$version" "node-llama-cpp-$platform-$version.tgz")
  rm -rf "$dest/lib/$platform" && mkdir -p "$dest/lib/$platform" "$tmp/x"
  tar xzf "$tgz" -C "$tmp/x"
  cp -a "$tmp/x/package/bins/$platform/." "$dest/lib/$platform/"
  rm -f "$dest/lib/$platform/llama-addon.node"   # the Node.js addon is of no use to the JVM
  cp "$tmp/x/package/LICENSE" "$dest/lib/$platform/LICENSE" 2>/dev/null || true
  date -u +%FT%TZ > "$lib_stamp"
  rm -rf "$tmp"; trap - EXIT
fi

src_stamp="$dest/src/.installed"
if [ $with_source = 1 ] && { [ $force = 1 ] || [ ! -f "$src_stamp" ]; }; then
  command -v git >/dev/null || { echo "install-llamacpp: git is required to unpack the source bundle" >&2; exit 3; }
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  echo "install-llamacpp: fetching node-llama-cpp@$version (llama.cpp source bundle)" >&2
  tgz=$(fetch "node-llama-cpp@$version" "node-llama-cpp-$version.tgz")
  mkdir -p "$tmp/x"
  tar xzf "$tgz" -C "$tmp/x" package/llama/gitRelease.bundle package/llama/patches package/llama/llama.cpp.info.json
  rm -rf "$dest/src"
  git -c advice.detachedHead=false clone -q "$tmp/x/package/llama/gitRelease.bundle" "$dest/src"
  rm -rf "$dest/src/.git"
  mkdir -p "$dest/src/.node-llama-cpp"
  cp -a "$tmp/x/package/llama/patches" "$tmp/x/package/llama/llama.cpp.info.json" "$dest/src/.node-llama-cpp/"
  date -u +%FT%TZ > "$src_stamp"
  rm -rf "$tmp"; trap - EXIT
fi

[ "${RBENCH_PRINT_DIR:-0}" = 1 ] && echo "$dest"
exit 0
