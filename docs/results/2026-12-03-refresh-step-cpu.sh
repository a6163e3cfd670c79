#!/usr/bin/env bash
# Recycled's refresh step on this CPU, before and after the top_k selection, side by side:
# rounds of `bench` alternate between the two builds (load drift hits both), then
# 2026-12-03-refresh-step-cpu.py takes medians. Usage, from the repository root:
#   docs/results/2026-12-03-refresh-step-cpu.sh BASE_JAR OUT_DIR [ROUNDS]
# BASE_JAR: harness/target/rbench.jar of a checkout of the commit before (built with
# ./mvnw -o -q -pl harness -am package -DskipTests); the current build runs through ./rbench,
# without its JVM AOT cache (RBENCH_AOT=0) as the jar before runs, so that both warm up alike.
set -euo pipefail
base_jar=$1
out=$2
rounds=${3:-3}
mkdir -p "$out"
java=("${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" --enable-native-access=ALL-UNNAMED
      --sun-misc-unsafe-memory-access=allow -Drbench.home="$(dirname "$(dirname "$(dirname "$base_jar")")")" -jar "$base_jar")
args=(--model models/rbench-longctx-run10-q8_0.gguf --methods full,recycled:k=256,s=16 --ctx 2048,8192
      --tokens 128 --repeats 5)
for r in $(seq 1 "$rounds"); do
  "${java[@]}" bench "${args[@]}" --out "$out/before-$r.csv" --steps-out "$out/before-$r-steps.csv" 2>&1 | tail -6
  RBENCH_AOT=0 ./rbench bench "${args[@]}" --out "$out/after-$r.csv" --steps-out "$out/after-$r-steps.csv" 2>&1 | tail -10
done
