#!/usr/bin/env bash
# End-to-end test of slurm-array.sh on a real Slurm: a small RULER sweep of the embedded
# model run once unsharded and once as a 4-task array, one task requeued mid-run (what
# Slurm does to a preempted job with PreemptMode=REQUEUE) and one cancelled mid-run and
# submitted again alone (what a user does after a preemption that cancels); then every
# shard must hold its rows exactly once and the merged CSV must equal the unsharded one.
#
#   harness/cluster/test-slurm.sh          # starts a single-node Slurm here (scripts/slurm-local.sh, root)
#
# On a cluster, from a checkout on a shared filesystem (the login node runs the unsharded
# sweep and the merge):
#   RBENCH_SLURM_LOCAL=0 RBENCH_SBATCH_OPTS="--partition=short" harness/cluster/test-slurm.sh
#
# Work files and logs: results/slurm-test/ (RBENCH_SLURM_TEST_DIR). Takes 2-3 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
work=${RBENCH_SLURM_TEST_DIR:-results/slurm-test}
shards=4
requeued=1    # the task that Slurm requeues
resubmitted=2 # the task that is cancelled and submitted again
wait_s=900
# shellcheck disable=SC2206
sbatch_opts=(--cpus-per-task=1 --mem=1G --time=30:00 ${RBENCH_SBATCH_OPTS:-})

say() { echo "test-slurm: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

if [ "${RBENCH_SLURM_LOCAL:-1}" != 0 ]; then
  scripts/slurm-local.sh start
fi
command -v python3 >/dev/null || fail "python3 is needed to compare the CSVs (apt-get install python3)"

rm -rf "$work"
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
# threads 1 and --cpus-per-task=1: the shards compute exactly as the unsharded run does
tasks=niah_single_1,niah_single_2,vt
lengths=2048,4096
per_task=8
cat >"$work/sweep.yaml" <<EOF
name: slurm-test
kind: ruler
models: [default]
methods: [full, "recycled:k=256,s=16", "streamingllm:k=256"]
tasks: [$tasks]
lengths: [$lengths]
samples: $per_task
seed: 42
backend: cpu
threads: 1
out: $work/unsharded.csv
EOF
samples=$((3 * 2 * per_task))
methods=3

# Build (and record the AOT cache) once, here: array tasks that each found the build out of
# date would all build at once in the same checkout.
say "building"
./rbench info >"$work/logs/info.log" 2>&1 || fail "./rbench info failed (see $work/logs/info.log)"

say "the unsharded sweep"
start=$(date +%s)
./rbench run "$work/sweep.yaml" 2>"$work/logs/unsharded.log" || fail "unsharded run failed (see $work/logs/unsharded.log)"
say "unsharded: $(($(date +%s) - start)) s"

# Data rows of a results CSV (predictions may hold newlines: count records, not lines).
rows() {
  python3 -c 'import csv,sys
try:
    print(sum(1 for _ in csv.DictReader(open(sys.argv[1], newline=""))))
except FileNotFoundError:
    print(0)' "$1"
}
task_state() { squeue -h -j "$1" -o '%T' 2>/dev/null | head -1; }
gone() { [ -z "$(squeue -h -j "$1" -o '%i' 2>/dev/null)" ]; }

shard_rows() { # rows shard i must end with: samples i, i+N, ... times the methods
  echo $(( ( (samples - $1 + shards - 1) / shards ) * methods ))
}

# Waits until array task $1 is running and has written at least one row of its shard, and
# prints the rows written; fails when the task finishes first.
caught_mid_run() {
  local job=$1 shard=$2 csv n deadline=$(($(date +%s) + wait_s))
  csv="$work/shards/shard-$shard-of-$shards.csv"
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$(rows "$csv")
    if [ "$(task_state "$job")" = RUNNING ] && [ "$n" -ge 1 ]; then
      if [ "$n" -ge "$(shard_rows "$shard")" ]; then
        fail "task $job finished before it could be preempted"
      fi
      echo "$n"
      return
    fi
    gone "$job" && fail "task $job left the queue before it could be preempted"
    sleep 0.2
  done
  fail "task $job did not start within $wait_s s"
}

say "submitting a $shards-task array"
array=$(sbatch --parsable --array=0-$((shards - 1)) "${sbatch_opts[@]}" --output="$work/logs/%A_%a.log" \
  harness/cluster/slurm-array.sh "$work/sweep.yaml" "$work/shards" "$shards")
array=${array%%;*}
say "array job $array"

n=$(caught_mid_run "${array}_$requeued" "$requeued")
say "requeueing task ${array}_$requeued after $n of $(shard_rows "$requeued") rows"
scontrol requeue "${array}_$requeued"
# Slurm holds a requeued job back for a while (its begin time moves about two minutes on);
# the test starts it as soon as it is pending again.
deadline=$(($(date +%s) + 120))
until [ "$(task_state "${array}_$requeued")" = PENDING ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "requeued task ${array}_$requeued did not return to pending"
  sleep 0.5
done
say "requeued task pending: $(squeue -h -j "${array}_$requeued" -o '%r, begins %S')"
scontrol update JobId="${array}_$requeued" StartTime=now

n=$(caught_mid_run "${array}_$resubmitted" "$resubmitted")
say "cancelling task ${array}_$resubmitted after $n of $(shard_rows "$resubmitted") rows"
scancel "${array}_$resubmitted"
deadline=$(($(date +%s) + 120))
until gone "${array}_$resubmitted"; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "cancelled task ${array}_$resubmitted did not leave the queue"
  sleep 0.5
done
cancelled_rows=$(rows "$work/shards/shard-$resubmitted-of-$shards.csv")
say "submitting task $resubmitted again (its CSV has $cancelled_rows rows)"
again=$(sbatch --parsable --array="$resubmitted" "${sbatch_opts[@]}" --output="$work/logs/%A_%a.log" \
  harness/cluster/slurm-array.sh "$work/sweep.yaml" "$work/shards" "$shards")
again=${again%%;*}

deadline=$(($(date +%s) + wait_s))
until gone "$array" && gone "$again"; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "jobs $array and $again still queued after $wait_s s"
  sleep 2
done

# How each task ended (the controller keeps finished jobs for MinJobAge, 300 s by default).
ended() { # job id -> "STATE EXIT RESTARTS" of each array task, one line per task
  scontrol show job -o "$1" | sed -n 's/.*ArrayTaskId=\([0-9]*\).*JobState=\([A-Z_]*\).*Restarts=\([0-9]*\).*ExitCode=\([0-9:]*\).*/\1 \2 \4 \3/p' | sort -n
}
say "jobs as they ended (task state exit restarts):"
ended "$array" | sed 's/^/  array /' >&2
ended "$again" | sed 's/^/  again /' >&2
for t in $(seq 0 $((shards - 1))); do
  [ "$t" = "$resubmitted" ] && continue
  ended "$array" | grep -q "^$t COMPLETED 0:0" || fail "array task $t did not complete (logs: $work/logs/)"
done
ended "$array" | grep -q "^$requeued COMPLETED 0:0 1$" || fail "task $requeued was not requeued once"
ended "$again" | grep -q "^$resubmitted COMPLETED 0:0" || fail "resubmitted task $resubmitted did not complete"
grep -q "resuming" "$work/logs/${array}_$requeued.log" || fail "the requeued task did not resume its CSV"
grep -q "resuming" "$work/logs/${again}_$resubmitted.log" || fail "the resubmitted task did not resume its CSV"

say "merging"
./rbench merge "$work"/shards/shard-*-of-$shards.csv --out "$work/merged.csv" | tee "$work/logs/merge.log" >&2

# Every shard holds its own rows exactly once; merged equals unsharded on every column
# except those that measure time or name the run.
python3 - "$work" "$shards" "$methods" "$tasks" "$lengths" "$per_task" <<'EOF'
import csv, sys, pathlib
work, shards, methods = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# the sweep's fixed order of samples (RulerRun: lengths, then tasks, then sample index);
# shard i holds samples i, i + N, ...
order = [(t, l, str(s)) for l in sys.argv[5].split(",") for t in sys.argv[4].split(",") for s in range(int(sys.argv[6]))]
shard_of = {s: i % shards for i, s in enumerate(order)}
KEY = ["kind", "model_sha256", "method", "seed", "task", "length", "sample_index"]
DIFFER = {"run_id", "timestamp", "prefill_ms", "decode_ms_mean", "decode_ms_p50", "decode_ms_p90", "device_mem_used_mb"}
def load(p):
    rows = list(csv.DictReader(open(p, newline="")))
    keyed = {}
    for r in rows:
        k = tuple(r[c] for c in KEY)
        if k in keyed:
            sys.exit(f"FAIL: {p} holds {k} twice")
        keyed[k] = r
    return rows, keyed
problems = []
unsharded_rows, unsharded = load(work / "unsharded.csv")
if len(unsharded) != len(order) * methods:
    problems.append(f"unsharded has {len(unsharded)} rows, the sweep {len(order) * methods}")
for i in range(shards):
    rows, keyed = load(work / "shards" / f"shard-{i}-of-{shards}.csv")
    want = {k for k, r in unsharded.items() if shard_of[(r["task"], r["length"], r["sample_index"])] == i}
    if set(keyed) != want:
        problems.append(f"shard {i}: {len(want - set(keyed))} rows missing, {len(set(keyed) - want)} not its own")
    print(f"shard {i}: {len(rows)} rows, none repeated, {'all its own' if set(keyed) == want else 'WRONG'}")
merged_rows, merged = load(work / "merged.csv")
columns = list(unsharded_rows[0].keys())
if list(merged_rows[0].keys()) != columns:
    problems.append("merged and unsharded have different columns")
equal = [c for c in columns if c not in DIFFER]
if set(merged) != set(unsharded):
    problems.append(f"merged has {len(set(unsharded) - set(merged))} rows missing and {len(set(merged) - set(unsharded))} extra")
diffs = 0
for k in set(merged) & set(unsharded):
    for c in equal:
        if merged[k][c] != unsharded[k][c]:
            diffs += 1
            if diffs <= 5:
                problems.append(f"{k}: {c} is {merged[k][c]!r} merged, {unsharded[k][c]!r} unsharded")
print(f"merged {len(merged_rows)} rows, unsharded {len(unsharded_rows)} rows ({len(order)} samples x {methods} methods)")
print(f"equal on {len(equal)} columns: {', '.join(equal)}")
print(f"allowed to differ: {', '.join(c for c in columns if c in DIFFER)}")
if diffs:
    problems.append(f"{diffs} differing values in all")
if problems:
    print("FAIL:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("merged == unsharded")
EOF
say "PASS"
