#!/usr/bin/env bash
# Runs one shard of an rbench sweep per Slurm array task: task i runs shard i of SHARDS.
#
#   ./rbench info     # build once before submitting, so the tasks do not all build at once
#   sbatch --array=0-7 harness/cluster/slurm-array.sh sweeps/my-sweep.yaml results/my-sweep 8
#   # a task that was preempted, cancelled or failed: submit it again, alone
#   sbatch --array=3 harness/cluster/slurm-array.sh sweeps/my-sweep.yaml results/my-sweep 8
#   # when all tasks are done:
#   ./rbench merge results/my-sweep/shard-*-of-8.csv --out results/my-sweep.csv
#
# Each task writes OUT_DIR/shard-<i>-of-<SHARDS>.csv and resumes it where it stopped, so a
# resubmitted or requeued task neither loses nor repeats rows. SHARDS is an argument, not
# read from the array: a resubmitted task is an array of one. The log is appended to,
# so a requeued task's log keeps every run.
# Options on the sbatch command line override these (e.g. --cpus-per-task=4 --mem=8G);
# keep the sweep's threads at most --cpus-per-task.
#SBATCH --job-name=rbench
#SBATCH --cpus-per-task=16
#SBATCH --mem=64G
#SBATCH --time=24:00:00
#SBATCH --output=rbench-%A_%a.log
#SBATCH --open-mode=append
# For GPUs add e.g.: #SBATCH --gres=gpu:1   (and backend: cuda in the sweep)
set -euo pipefail
usage="usage: sbatch --array=0-<SHARDS-1> slurm-array.sh CONFIG.yaml OUT_DIR SHARDS"
config=${1:?$usage}
out_dir=${2:?$usage}
shards=${3:?$usage}
shard=${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task ($usage)}
if ! [[ "$shards" =~ ^[1-9][0-9]*$ ]]; then
  echo "slurm-array.sh: SHARDS must be a positive integer, not '$shards' ($usage)" >&2
  exit 2
fi
if [ "$shard" -ge "$shards" ]; then
  echo "slurm-array.sh: array task $shard is not a shard of $shards: use --array ids 0 to $((shards - 1))" >&2
  exit 2
fi

# Slurm runs a copy of this script from its spool directory, so the checkout is found from
# the script's submitted path (scontrol's Command), else from where it was submitted, else
# from the script's own path (run outside Slurm); RBENCH overrides all three.
checkout_rbench() {
  local script dir
  if [ -n "${SLURM_JOB_ID:-}" ] && command -v scontrol >/dev/null; then
    script=$(scontrol show job "$SLURM_JOB_ID" -o 2>/dev/null | sed -n 's/.* Command=\([^ ]*\).*/\1/p' | head -1)
    if [ -n "$script" ] && [ -f "$script" ]; then
      dir=$(cd "$(dirname "$script")/../.." && pwd)
      [ -x "$dir/rbench" ] && { echo "$dir/rbench"; return; }
    fi
  fi
  [ -n "${SLURM_SUBMIT_DIR:-}" ] && [ -x "$SLURM_SUBMIT_DIR/rbench" ] && { echo "$SLURM_SUBMIT_DIR/rbench"; return; }
  dir=$(cd "$(dirname "$0")/../.." && pwd)
  [ -x "$dir/rbench" ] && { echo "$dir/rbench"; return; }
  echo "slurm-array.sh: cannot find the rbench launcher; submit from the checkout or set RBENCH=/path/to/rbench" >&2
  return 1
}
rbench=${RBENCH:-$(checkout_rbench)}
mkdir -p "$out_dir"
echo "slurm-array.sh: job ${SLURM_JOB_ID:-?} (array ${SLURM_ARRAY_JOB_ID:-?}_$shard) on $(hostname): shard $shard/$shards" >&2
# exec: the JVM gets Slurm's SIGTERM at preemption and finishes the row it is writing
exec $rbench run "$config" --shard "$shard/$shards" --out "$out_dir/shard-$shard-of-$shards.csv"
