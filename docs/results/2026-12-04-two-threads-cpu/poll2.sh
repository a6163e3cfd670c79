#!/usr/bin/env bash
for round in 1 2 3 4; do
  for poll in 0 1 3; do
    out=/tmp/lbr/poll2-$poll-$round.csv; rm -f $out
    (cd /work/main && RBENCH_JAVA_OPTS="-Drbench.poll=$poll" ./rbench bench --model models/rbench-longctx-run10-q8_0.gguf --methods full,llamacpp,llama-bench --fill prefill \
      --ctx 2048 --tokens 64 --repeats 7 --threads 2 --llama-bench .native/llama.cpp-3.21.1/llama-bench-cpu-prebuilt/bin/llama-bench \
      --out $out 2>&1 | grep -E "against" | sed "s/^/poll $poll $round: /")
  done
done
