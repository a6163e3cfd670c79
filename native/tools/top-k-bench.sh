#!/usr/bin/env bash
# Builds and runs top-k-bench.cu: the block-a-row and cluster-a-row radix top_k (and, for a plain top_k, the select
# over many blocks a row) timed on their own, cut out of a
# top-k.cu that native/patches/ggml-cuda-radix-top-k.diff patched (the order-preserving float key, the kernels, their
# launches).
# Seconds to build, where the CUDA libraries take minutes: an A/B of the kernel's variants on a machine that has
# not built them. Usage: top-k-bench.sh PATCHED_TOP_K_CU OUT_DIR [ncols nrows group k reps]   (CSV: OUT_DIR/top-k-bench.csv)
set -euo pipefail
src=${1:?usage: top-k-bench.sh PATCHED_TOP_K_CU OUT_DIR [ncols nrows group k reps]}
out=${2:?usage: top-k-bench.sh PATCHED_TOP_K_CU OUT_DIR [ncols nrows group k reps]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the pieces: the key function and the column limit, then the device code of the row selects (from the output layout
# to the end of the cluster kernel, one run of the file: the shared pieces and both kernels), then their launches, each
# from its template line to the first line after it that closes a top-level brace
python3 - "$src" "$work/top-k-row-block.cuh" <<'EOF'
import re, sys
text = open(sys.argv[1]).read().split('\n')
def find(start, after=0):
    for i in range(after, len(text)):
        if re.match(start, text[i]):
            return i
    sys.exit('top-k-bench: no line matching %r in %s (is it the patched top-k.cu?)' % (start, sys.argv[1]))
def close(i):
    return next(j for j in range(i, len(text)) if text[j] == '}' or text[j] == '};')
def piece(start):
    i = find(start)
    return '\n'.join(text[i:close(i) + 1])
parts = [
    piece(r'static __device__ __forceinline__ uint32_t top_k_float_to_ordered'),
    text[find(r'static constexpr int TOP_K_ROW_BLOCK_MAX_COLS')],
]
first = find(r'struct top_k_row_out \{')
kernel = find(r'static __global__ void top_k_radix_row_cluster\(', first)
if find(r'static __global__ void top_k_radix_row_block\(', first) > kernel:
    sys.exit('top-k-bench: top_k_radix_row_block is not between top_k_row_out and top_k_radix_row_cluster in %s' % sys.argv[1])
parts.append('\n'.join(text[first:close(kernel) + 1]))
# the select over many blocks a row (its state, kernels and launch: what ggml-cuda runs for rows past the block-a-row
# limit), timed beside the row selects for a plain top_k
many = find(r'struct top_k_radix_state \{')
parts.append('\n'.join(text[many:close(find(r'static void top_k_radix_cuda\(', many)) + 1]))
for name in ('top_k_radix_row_block_launch', 'top_k_radix_row_cluster_launch_items', 'top_k_radix_row_cluster_launch'):
    i = find(r'static (void|bool) %s\(' % name)
    parts.append('\n'.join(text[i - 1:close(i) + 1]))
open(sys.argv[2], 'w').write('// cut out of %s by top-k-bench.sh\n#pragma once\n\n' % sys.argv[1] + '\n\n'.join(parts) + '\n')
EOF
arch=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')}
nvcc -O3 -std=c++17 -arch="sm_${arch:-90}" -I"$work" "$here/top-k-bench.cu" -o "$work/top-k-bench"
"$work/top-k-bench" "$@" | tee "$out/top-k-bench.csv"
