#!/usr/bin/env bash
# The nightly job: a fixed sweep (RULER and decode latency on the embedded model), added to the
# history, then the trend table, the trend plots and the check of tonight against the nights
# before it. Exits with the check's status: 0 no regression, 1 a regression (named in check.md
# and on stdout), anything else a failure of the job itself.
#
#   scripts/nightly.sh [--profile cpu|gpu] [--db FILE] [--out DIR] [--night YYYY-MM-DD]
#                      [--machine NAME] [--window N]
#
#   --profile  cpu (default): scripts/nightly/cpu-*.yaml, minutes on 2 cores;
#              gpu: scripts/nightly/gpu-*.yaml on CUDA. Unless RBENCH_LLAMACPP_DIR names a
#              llama.cpp build, the CUDA libraries are built once into .native (native/scripts/
#              build-llamacpp.sh --backend cuda, CUDA_ARCH, default 90) and used from there.
#   --db       the history (default results/history.sqlite); keep it between nights
#   --out      tonight's files (default results/nightly/NIGHT): ruler.csv, latency.csv, report/,
#              trend.md, trend-plots/, check.md
#   --night    the night's date (default: today, UTC)
#   --machine  the machine's name in the history (default: the results' device column)
#   --window   previous nights the noise band comes from (default 7)
#
# From cron, e.g. at 03:17 every night:
#   17 3 * * * cd /srv/rbench && git pull -q && scripts/nightly.sh --db /srv/rbench-history.sqlite >>/srv/nightly.log 2>&1
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

profile=cpu; db=results/history.sqlite; out=""; night=$(date -u +%F); machine=(); window=7
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --night) night=$2; shift 2 ;;
    --machine) machine=(--machine "$2"); shift 2 ;;
    --window) window=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "nightly: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
  esac
done
case "$profile" in
  cpu|gpu) ;;
  *) echo "nightly: --profile must be cpu or gpu, not '$profile'" >&2; exit 2 ;;
esac
out=${out:-results/nightly/$night}
mkdir -p "$out"
log() { echo "$(date -u +%H:%M:%S) nightly: $*" >&2; }

# builds the suite when needed and installs the pinned llama.cpp (first run)
./rbench info >"$out/info.txt"

if [ "$profile" = gpu ] && [ -z "${RBENCH_LLAMACPP_DIR:-}" ]; then
  version=$(sed -n 's:.*<llamacpp.npm.version>\(.*\)</llamacpp.npm.version>.*:\1:p' pom.xml)
  cuda=.native/llama.cpp-$version/lib/linux-x64-cuda
  if [ ! -d "$cuda" ]; then
    log "building the CUDA libraries into $cuda (once)"
    native/scripts/build-llamacpp.sh --backend cuda --cuda-arch "${CUDA_ARCH:-90}" --native-cpu --out "$cuda" >"$out/build-cuda.log" 2>&1
  fi
  export RBENCH_LLAMACPP_DIR=$root/$cuda
fi

log "night $night, profile $profile: RULER sweep"
./rbench run "scripts/nightly/$profile-ruler.yaml" --out "$out/ruler.csv"
log "decode-latency sweep"
./rbench run "scripts/nightly/$profile-latency.yaml" --out "$out/latency.csv" >"$out/latency.txt"
./rbench report "$out/ruler.csv" "$out/latency.csv" --out "$out/report" >/dev/null

log "history $db"
./rbench history add "$out/ruler.csv" "$out/latency.csv" --db "$db" --night "$night" ${machine[@]+"${machine[@]}"}
./rbench history show --db "$db" --window "$window" --out "$out/trend.md"
./rbench history plot --db "$db" --window "$window" --out "$out/trend-plots" --metric latency.ms_per_token,ruler.accuracy,ruler.s_per_example
status=0
./rbench history check --db "$db" --night "$night" --window "$window" --report "$out/check.md" || status=$?
log "done: $out (check exit status $status)"
exit "$status"
