#!/usr/bin/env bash
# Runs one shard of an rbench sweep per Slurm array task; merge the shard CSVs afterwards.
#
#   sbatch --array=0-7 harness/cluster/slurm-array.sh sweeps/my-sweep.yaml results/my-sweep
#   # when all tasks are done:
#   ./rbench merge results/my-sweep/shard-*.csv --out results/my-sweep.csv
#
# Each task writes results/my-sweep/shard-<i>-of-<N>.csv. A task that is preempted or
# fails can simply be resubmitted: rbench resumes its CSV where it stopped.
#SBATCH --job-name=rbench
#SBATCH --cpus-per-task=16
#SBATCH --mem=64G
#SBATCH --time=24:00:00
#SBATCH --output=rbench-%A_%a.log
# For GPUs add e.g.: #SBATCH --gres=gpu:1   (and backend: cuda in the sweep)
set -euo pipefail
config=${1:?usage: slurm-array.sh CONFIG.yaml OUT_DIR}
out_dir=${2:?usage: slurm-array.sh CONFIG.yaml OUT_DIR}
index=${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}
# Task ids may start above 0 (--array=1-8): shard by the offset from the first id.
first=${SLURM_ARRAY_TASK_MIN:-0}
count=${SLURM_ARRAY_TASK_COUNT:?SLURM_ARRAY_TASK_COUNT is not set}
shard=$((index - first))
rbench=${RBENCH:-"$(cd "$(dirname "$0")/../.." && pwd)/rbench"}
mkdir -p "$out_dir"
exec $rbench run "$config" --shard "$shard/$count" --out "$out_dir/shard-$shard-of-$count.csv"
