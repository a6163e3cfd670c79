#!/usr/bin/env bash
# A device bundle that carries CUDA libraries already built, in place of the llama.cpp source: the runtime and jars
# of .cache/device (scripts/pack-device-bundle.sh, run first) with the cuda-libs.txz.NN pieces an earlier call's
# `libs` step brought back (cuda-device.sh). On a fresh machine, `BUNDLE=OUT bash scripts/cuda-device.sh STEP...`
# then unpacks the libraries in a second, where building them takes 165-280 s of device time.
#
#   scripts/pack-libs-bundle.sh PIECES_DIR [OUT]     (OUT: .cache/device-libs; carry it with the run)
#
# Refuses pieces built from other patches than this tree's (their rbench-patches.txt against
# scripts/patch-stamp.sh) and a bundle larger than the 64 MiB a device call carries (the libraries take about 42 MB,
# the runtime 15 and the jars 6). Keep OUT between sessions: only rbench.tgz changes with the Java code, and
# re-running this script refreshes it. PATCH_STAMP names another tree's scripts/patch-stamp.sh to check the pieces
# against (build-cuda-libs-here.sh's, whose tree may hold the pending patches too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pieces=${1:?usage: pack-libs-bundle.sh PIECES_DIR [OUT]}
out=${2:-$root/.cache/device-libs}
src=$root/.cache/device
carry_limit=$((64 * 1024 * 1024))
fail() { echo "pack-libs-bundle: $*" >&2; exit 1; }

ls "$pieces"/cuda-libs.txz.* >/dev/null 2>&1 || fail "no cuda-libs.txz.* pieces in $pieces (cuda-device.sh's libs step makes them)"
for f in jre.txz rbench.tgz; do
  [ -f "$src/$f" ] || fail "no $src/$f: run scripts/pack-device-bundle.sh first"
done
record=$(mktemp) && trap 'rm -f "$record"' EXIT
cat "$pieces"/cuda-libs.txz.* | xz -dc | tar xOf - --wildcards '*rbench-patches.txt' >"$record" 2>/dev/null \
  || fail "the pieces in $pieces hold no rbench-patches.txt (or are not one whole xz'd tar): their patches are unknown"
bash "${PATCH_STAMP:-$root/scripts/patch-stamp.sh}" --matches "$record" \
  || fail "the libraries in $pieces were built from other patches than ${PATCH_STAMP:+those of }${PATCH_STAMP:-native/patches now}; build them again (cuda-device.sh build libs)"

size=$(cat "$src/jre.txz" "$src/rbench.tgz" "$pieces"/cuda-libs.txz.* | wc -c)
[ "$size" -le "$carry_limit" ] || fail "$size bytes with the pieces: over the 64 MiB a device call carries"

mkdir -p "$out"
if [ "$(cd "$pieces" && pwd)" != "$(cd "$out" && pwd)" ]; then
  rm -f "$out"/cuda-libs.txz.*
  cp "$pieces"/cuda-libs.txz.* "$out/"
fi
cp "$src/jre.txz" "$src/rbench.tgz" "$out/"
rm -f "$out/llama-src.tgz" # without the source, a mismatch is reported in steps.log instead of rebuilt
carried=$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
[ "$carried" -le "$carry_limit" ] || fail "$out holds $carried bytes (other files beside the bundle's?): over the 64 MiB a device call carries"
echo "pack-libs-bundle: $out ($((carried / 1024 / 1024)) MiB): BUNDLE=${out#"$root"/} bash scripts/cuda-device.sh STEP... (carry ${out#"$root"/})"
