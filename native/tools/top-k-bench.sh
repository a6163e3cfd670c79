#!/usr/bin/env bash
# Builds and runs top-k-bench.cu: the block-a-row and cluster-a-row radix top_k timed on their own, cut out of a
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
# the pieces, each from its first line to the first line after it that closes a top-level brace
python3 - "$src" "$work/top-k-row-block.cuh" <<'EOF'
import re, sys
text = open(sys.argv[1]).read().split('\n')
def piece(start):
    for i, line in enumerate(text):
        if re.match(start, line):
            for j in range(i, len(text)):
                if text[j] == '}' or text[j] == '};':
                    return '\n'.join(text[i:j + 1])
    sys.exit('top-k-bench: no line matching %r in %s (is it the patched top-k.cu?)' % (start, sys.argv[1]))
def line(start):
    for l in text:
        if re.match(start, l):
            return l
    sys.exit('top-k-bench: no line matching %r in %s' % (start, sys.argv[1]))
parts = [
    piece(r'static __device__ __forceinline__ uint32_t top_k_float_to_ordered'),
    line(r'static constexpr int TOP_K_ROW_BLOCK_MAX_COLS'),
    piece(r'struct top_k_row_out \{'),
    piece(r'template<int BLOCK_SIZE, int RADIX_BITS, int ITEMS>$'),
]
parts.append(piece(r'template<int CLUSTER, int BLOCK_SIZE, int RADIX_BITS, int ITEMS>$'))
# the launches: each from its template line, the one above it (with the comment lines above that)
for name in ('top_k_radix_row_block_launch', 'top_k_radix_row_cluster_launch_items', 'top_k_radix_row_cluster_launch'):
    for i, l in enumerate(text):
        if l.startswith('static void %s(' % name) or l.startswith('static bool %s(' % name):
            j = next(j for j in range(i, len(text)) if text[j] == '}')
            parts.append('\n'.join(text[i - 1:j + 1]))
            break
    else:
        sys.exit('top-k-bench: no %s in %s' % (name, sys.argv[1]))
# the kernel's template line is followed by __launch_bounds__ and the kernel: check it is the row-block one
if 'top_k_radix_row_block(' not in parts[3] or 'top_k_radix_row_cluster(' not in parts[4]:
    sys.exit('top-k-bench: the ITEMS templates in %s are not top_k_radix_row_block and top_k_radix_row_cluster' % sys.argv[1])
open(sys.argv[2], 'w').write('// cut out of %s by top-k-bench.sh\n#pragma once\n\n' % sys.argv[1] + '\n\n'.join(parts) + '\n')
EOF
arch=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')}
nvcc -O3 -std=c++17 -arch="sm_${arch:-90}" -I"$work" "$here/top-k-bench.cu" -o "$work/top-k-bench"
"$work/top-k-bench" "$@" | tee "$out/top-k-bench.csv"
