#!/usr/bin/env bash
for round in 1 2 3 4; do
  for opt in default c1; do
    if [ $opt = c1 ]; then jo="-XX:TieredStopAtLevel=1"; else jo=""; fi
    out=/tmp/lbr/jvm-$opt-$round.csv; rm -f $out
    (cd /work/main && RBENCH_JAVA_OPTS="$jo" ./rbench bench --model models/rbench-longctx-run10-q8_0.gguf --methods full,llamacpp,llama-bench --fill prefill \
      --ctx 2048 --tokens 64 --repeats 7 --threads 2 --llama-bench .native/llama.cpp-3.21.1/llama-bench-cpu-prebuilt/bin/llama-bench \
      --out $out 2>&1 | grep -E "against|warm-up round" | sed "s/^/$opt $round: /")
  done
done
