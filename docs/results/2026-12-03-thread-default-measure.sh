#!/usr/bin/env bash
# The thread-default measurements (2026-12-03-thread-default.md). One measurement:
#   measure.sh generate|bench THREADS idle|busy
# prints the timing plus how many cores other processes used meanwhile (from /proc/stat, less
# this run's own CPU time and the busy loop's). All of them, ROUNDS times (default 3):
#   measure.sh matrix
# Scratch files go to $H (default: a folder under $HOME).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
H=${H:-$HOME/rbench-thread-default}
mkdir -p "$H"
if [ "${1:-}" = matrix ]; then
  for round in $(seq 1 "${ROUNDS:-3}"); do
    for what in generate bench; do for load in idle busy; do for t in 1 2; do
      echo "round=$round $(date +%H:%M:%S) $("$0" $what $t $load)"
    done; done; done
  done
  exit 0
fi
cd "$root"
what=$1 t=$2 load=$3
[ -f "$H/prompt.txt" ] || head -c 12000 .cache/datasets/moby-dick/moby-dick.txt | tail -c 9000 > "$H/prompt.txt"
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
busy=""
if [ "$load" = busy ]; then yes > /dev/null & busy=$!; sleep 1; fi
b0=$(busy_jiffies); s0=$(date +%s.%N)
if [ "$what" = generate ]; then
  cmd=(./rbench generate --backend cpu --threads "$t" --prompt-file "$H/prompt.txt" --max-tokens 64)
else
  rm -f "$H/bench-$t-$load.csv"
  cmd=(./rbench bench --model models/rbench-longctx-run10-q8_0.gguf --backend cpu --threads "$t" --ctx 4096
       --fill synthetic --tokens 64 --repeats 3 --methods full --out "$H/bench-$t-$load.csv")
fi
out=$(/usr/bin/time -f "OWN %U %S" "${cmd[@]}" 2>&1 >"$H/stdout")
b1=$(busy_jiffies); s1=$(date +%s.%N)
yes_cpu=0
if [ -n "$busy" ]; then yes_cpu=$(awk '{print $14+$15}' /proc/$busy/stat); kill "$busy"; wait "$busy" 2>/dev/null; fi
own=$(echo "$out" | awk '/^OWN/{print ($2+$3)*100}')   # seconds to jiffies (CLK_TCK 100)
others=$(awk -v b="$((b1-b0))" -v o="$own" -v y="$yes_cpu" -v w="$(echo "$s1 - $s0" | bc)" 'BEGIN{printf "%.2f", (b-o-y)/100/w}')
if [ "$what" = generate ]; then
  line=$(echo "$out" | grep 'ms/token' | sed 's/.*prompt tokens, //; s/; stop.*//')
else
  line="p50 ms/token per repeat: $(python3 -c "import csv;print(' '.join(r['decode_ms_p50'] for r in csv.DictReader(open('$H/bench-$t-$load.csv'))))")"
fi
echo "$what threads=$t $load others_cores=$others | $line"
