#!/usr/bin/env bash
# The record of the suite's llama.cpp patches that CUDA libraries are built from (each patch's name and checksum,
# then the files they touch): cuda-device.sh's build writes it beside the libraries as rbench-patches.txt and takes
# carried libraries only when it equals this tree's; pack-libs-bundle.sh checks pieces with it.
#
#   patch-stamp.sh                 this tree's record
#   patch-stamp.sh --matches FILE  exit 0 where FILE records this tree's patches, in any line order (records
#                                  written before the file list was sorted in the C locale follow the machine's)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
stamp() {
  cd "$root/native/patches"
  for p in *.diff; do echo "$p $(sha256sum <"$p" | cut -c1-16)"; done
  sed -n 's:^+++ b/\([^[:space:]]*\).*:file \1:p' *.diff | LC_ALL=C sort -u
}
if [ "${1:-}" = --matches ]; then
  [ -f "${2:?usage: patch-stamp.sh --matches FILE}" ] && [ "$(LC_ALL=C sort "$2")" = "$(stamp | LC_ALL=C sort)" ]
else
  stamp
fi
