#!/usr/bin/env bash
# alternating before/after: bench at 2 threads, the embedded model at 2K, 7 repeats, default warm-up
for round in 1 2 3 4; do
  for side in base new; do
    if [ $side = base ]; then rb=/tmp/base/rbench; else rb=/work/main/rbench; fi
    out=/tmp/lbr/ab-$side-$round.csv; rm -f $out
    (cd /work/main && $rb bench --model models/rbench-longctx-run10-q8_0.gguf --methods full,llamacpp,llama-bench --fill prefill \
      --ctx 2048 --tokens 64 --repeats 7 --threads 2 --llama-bench .native/llama.cpp-3.21.1/llama-bench-cpu-prebuilt/bin/llama-bench \
      --out $out 2>&1 | grep -E "against|warm-up round" | sed "s/^/$side $round: /")
  done
done
