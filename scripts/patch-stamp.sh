#!/usr/bin/env bash
# The record of the suite's llama.cpp patches that CUDA libraries are built from (each patch's name and checksum,
# then the files they touch): cuda-device.sh's build writes it beside the libraries as rbench-patches.txt and takes
# carried libraries only when it equals this tree's; pack-libs-bundle.sh checks pieces with it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/native/patches"
for p in *.diff; do echo "$p $(sha256sum <"$p" | cut -c1-16)"; done
sed -n 's:^+++ b/\([^[:space:]]*\).*:file \1:p' *.diff | LC_ALL=C sort -u
