#!/usr/bin/env bash
# A single-node Slurm on this machine, for testing the suite's Slurm array script
# (harness/cluster/test-slurm.sh). Needs root and Debian's packages; no systemd needed: the
# daemons are started directly.
#
#   scripts/slurm-local.sh start    # install slurm-wlm and munge if missing, write the config,
#                                   # start munged, slurmctld, slurmd; wait until the node is idle
#   scripts/slurm-local.sh status   # sinfo and squeue
#   scripts/slurm-local.sh stop     # stop the three daemons (by their pid files)
#
# start is idempotent: daemons already running are left alone; a changed config (another
# CPU count or memory) restarts slurmctld and slurmd. The node is this host, with the CPUs
# and memory `slurmd -C` detects, in one partition "rbench" (the default). Jobs run as
# the submitting user; slurmd runs as root, slurmctld as the package's slurm user. The
# config is /etc/slurm/slurm.conf; a file there that this script did not write is never
# overwritten (a real cluster's).
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker="# written by rbench scripts/slurm-local.sh"
ctld_pid=/run/slurmctld.pid
slurmd_pid=/run/slurmd.pid
munge_pid=/run/munge/munged.pid
log_dir=/var/log/slurm

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

# The process in a pid file, when it is alive and is the named program.
running() {
  local pidfile=$1 name=$2 pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

install_packages() {
  if command -v munged >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
      && command -v sbatch >/dev/null; then
    return
  fi
  [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are not installed, and installing them needs root"
  say "installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends slurm-wlm munge >/tmp/slurm-local-apt.log 2>&1; then
    apt-get update -q >>/tmp/slurm-local-apt.log 2>&1
    apt-get install -y -q --no-install-recommends slurm-wlm munge >>/tmp/slurm-local-apt.log 2>&1 \
      || die "apt-get install slurm-wlm munge failed (see /tmp/slurm-local-apt.log)"
  fi
}

start_munge() {
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating the munge key"
    mungekey --create --keyfile=/etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  if running "$munge_pid" munged; then
    return
  fi
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged --pid-file="$munge_pid"
  munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
}

# The config for this host: its name, CPUs, sockets and memory as slurmd detects them.
# Process tracking by /proc and no task plugin: nothing needs cgroups (a container often
# has none that Slurm may use).
write_config() {
  local host node
  host=$(hostname -s)
  node=$(slurmd -C | sed -n 's/^\(NodeName=.*\)/\1/p' | head -1)
  [ -n "$node" ] || die "slurmd -C did not describe this node"
  node=$(echo "$node" | sed 's/ UpTime=.*//')
  local tmp; tmp=$(mktemp)
  cat >"$tmp" <<EOF
$marker (a single-node test cluster)
ClusterName=rbench-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
JobRequeue=1
MailProg=/bin/true
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=rbench Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
    rm -f "$tmp"
    die "$conf exists and was not written by this script; not touching it"
  fi
  if [ -f "$conf" ] && cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
    return 1
  fi
  install -d -m 0755 /etc/slurm
  install -m 0644 "$tmp" "$conf"
  rm -f "$tmp"
  say "wrote $conf ($node)"
  return 0
}

stop_daemon() {
  local pidfile=$1 name=$2 pid i
  running "$pidfile" "$name" || return 0
  pid=$(cat "$pidfile")
  say "stopping $name ($pid)"
  kill "$pid"
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  die "$name ($pid) did not stop"
}

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -1; }

start() {
  install_packages
  start_munge
  install -d -o slurm -g slurm -m 0755 /var/lib/slurm /var/lib/slurm/slurmctld "$log_dir"
  install -d -m 0755 /var/lib/slurm/slurmd
  if write_config; then
    stop_daemon "$slurmd_pid" slurmd
    stop_daemon "$ctld_pid" slurmctld
  fi
  if ! running "$ctld_pid" slurmctld; then
    say "starting slurmctld"
    slurmctld
  fi
  if ! running "$slurmd_pid" slurmd; then
    say "starting slurmd"
    slurmd
  fi
  local state i
  for i in $(seq 1 60); do
    state=$(node_state)
    case "$state" in
      idle|mixed|allocated) say "node $(hostname -s) is $state"; sinfo >&2; return 0 ;;
      down*|drain*)
        # a node left down by an earlier stop comes back here
        scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  die "the node did not become idle (state: ${state:-none}; see $log_dir/slurmctld.log and slurmd.log)"
}

stop() {
  stop_daemon "$slurmd_pid" slurmd
  stop_daemon "$ctld_pid" slurmctld
  stop_daemon "$munge_pid" munged
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) sinfo; squeue ;;
  *) die "usage: slurm-local.sh start|status|stop" ;;
esac
