#!/usr/bin/env bash
# Checks that ./rbench runs the build ./test just made instead of building again, in the two
# ways a checkout meets it: a source edited since the last build (development), and no
# launcher stamp at all (a fresh clone whose first command is ./test). Exit 1 if ./rbench
# rebuilds in either. Arguments go to ./test (default: its whole lifecycle, install included,
# with one quick test class: the launcher only cares what the build leaves in target/).
# Usage: scripts/check-no-rebuild-after-test.sh [./test arguments]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
test_args=("$@")
[ ${#test_args[@]} -gt 0 ] || test_args=(-o -q -Dtest=FullAttentionLineTest -Dsurefire.failIfNoSpecifiedTests=false)
source_file=core/src/main/java/org/rbench/core/ModelSession.java
failed=0

check() {
  local label=$1 log
  log=$(mktemp)
  ./test "${test_args[@]}" >"$log" 2>&1 || { echo "$label: ./test failed (log: $log)"; exit 2; }
  local start end
  start=$(date +%s.%N)
  RBENCH_AOT=0 ./rbench info >/dev/null 2>"$log.rbench" || { echo "$label: ./rbench info failed"; cat "$log.rbench"; exit 2; }
  end=$(date +%s.%N)
  if grep -q "building" "$log.rbench"; then
    echo "FAIL $label: ./rbench rebuilt after ./test ($(awk "BEGIN{printf \"%.1f\", $end-$start}") s): $(head -1 "$log.rbench")"
    failed=1
  else
    echo "ok   $label: ./rbench info ran the tested build in $(awk "BEGIN{printf \"%.1f\", $end-$start}") s"
  fi
  rm -f "$log" "$log.rbench"
}

touch "$source_file"
check "a source edited, then ./test"
rm -f harness/target/.rbench-built
check "no launcher stamp (fresh clone), then ./test"
exit $failed
