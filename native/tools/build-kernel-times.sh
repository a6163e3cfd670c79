#!/usr/bin/env bash
# Builds native/tools/kernel-times.c (the profile step's per-kernel timer) against this machine's CUPTI,
# the CUDA toolkit's, into DIR/libkernel-times.so beside a copy of that libcupti (found through
# $ORIGIN), so DIR can be carried to another machine.
# Usage: build-kernel-times.sh DIR   (exit 1, DIR untouched, where no CUPTI headers and library are found)
set -uo pipefail
dir=${1:?usage: build-kernel-times.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
inc=$(dirname "$(ls /usr/local/cuda*/include/cupti.h /usr/local/cuda*/extras/CUPTI/include/cupti.h 2>/dev/null | head -1)")
lib=$(dirname "$(ls "$inc"/../lib64/libcupti.so "$inc"/../lib/libcupti.so 2>/dev/null | head -1)")
[ -f "$inc/cupti.h" ] && [ -f "$lib/libcupti.so" ] || { echo "build-kernel-times: no CUPTI headers and library" >&2; exit 1; }
# cupti.h includes cuda.h, which sits in the toolkit's include folder beside or above it
mkdir -p "$dir" && gcc -shared -fPIC -O2 -I"$inc" -I"$inc/../../../include" "$here/kernel-times.c" \
    -o "$dir/libkernel-times.so" -L"$lib" -lcupti -lpthread -Wl,-rpath,'$ORIGIN' \
  && cp -L "$lib/$(readlink "$lib/libcupti.so" || echo libcupti.so)" "$dir/"
