#!/bin/sh
# cluster.sh — a one-node Slurm cluster on this machine, on loopback, for
# tests: its own munged, slurmctld and slurmd, every file under one state
# directory, nothing from /etc/slurm or /etc/munge and no systemd.
#
#   tests/slurm/cluster.sh start    configure, start, wait for the node
#   tests/slurm/cluster.sh stop     stop the daemons, remove the state
#   tests/slurm/cluster.sh status   sinfo, or why there is none
#   tests/slurm/cluster.sh env      the line to eval for the clients
#
# The clients (sbatch, squeue, sinfo) find the cluster through SLURM_CONF,
# which `start` and `env` print as an export line. Needs root (slurmd runs
# jobs as their submitter) and Debian's slurm-wlm and munge. Settings, from
# the environment:
#   SLURM_TEST_DIR   the state directory   [/tmp/mdlc-slurm-test]
#   SLURM_TEST_PORT  slurmctld's port; slurmd takes the next one  [26817]
#                    (not Slurm's 6817, so a real cluster's daemons on this
#                    machine are left alone)
set -eu

dir=${SLURM_TEST_DIR:-/tmp/mdlc-slurm-test}
port=${SLURM_TEST_PORT:-26817}
conf=$dir/slurm.conf
socket=$dir/munge/munge.socket
start_timeout=60

say() { echo "slurm cluster: $*"; }
die() {
  echo "slurm cluster: $*" >&2
  exit 1
}

# A start that failed: the last lines of every daemon's log, then down
# with what did start.
give_up() {
  for log in "$dir"/munged.log "$dir"/slurmctld.log "$dir"/slurmd.log; do
    [ -s "$log" ] || continue
    echo "--- $log (last lines)" >&2
    tail -n 15 "$log" >&2
  done
  stop
  die "$@"
}

write_conf() {
  cpus=$(nproc)
  # slurmd must find at least the memory configured, so leave some out.
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  cat >"$conf" <<EOF
# Written by tests/slurm/cluster.sh for a one-node test cluster.
ClusterName=mdlctest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in a container: plain process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# First in, first out: one node has nothing to backfill.
SchedulerType=sched/builtin
MpiDefault=none
MailProg=/bin/true
# No accounting daemon: squeue, not sacct, says how jobs ended.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Short timeouts, and a node that comes back by itself.
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
InactiveLimit=0
KillWait=5
MinJobAge=300
# The node as configured, even where slurmd counts differently.
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  # munged wants its socket's directory searchable by all.
  mkdir -p "$dir/munge"
  chmod 755 "$dir" "$dir/munge"
  if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --keyfile="$dir/munge/munge.key"
  else
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
  fi
  chmod 400 "$dir/munge/munge.key"
  # --force: start even where munged finds a directory above its files too
  # open (as on some containers' /tmp); a throwaway key needs no guarding.
  munged --force --socket="$socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munge/munged.seed" || give_up "munged did not start"
}

# Waits until sinfo shows the node idle, or gives up after start_timeout.
wait_for_node() {
  waited=0
  while :; do
    state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    for daemon in slurmctld slurmd; do
      pid_file=$dir/$daemon.pid
      if [ -s "$pid_file" ] && ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        give_up "$daemon exited"
      fi
    done
    if [ "$waited" -ge "$start_timeout" ]; then
      give_up "node not idle after ${start_timeout}s (state: ${state:-no answer})"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (slurmd runs jobs as their user)"
  for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "$tool not found: install Debian's slurm-wlm and munge"
  done
  [ -e "$dir/slurmctld.pid" ] && die "already running in $dir (stop it first)"
  rm -rf "$dir"
  mkdir -p "$dir/state" "$dir/spool"
  write_conf
  export SLURM_CONF="$conf"
  start_munge
  slurmctld -c -f "$conf" || give_up "slurmctld did not start"
  slurmd -f "$conf" -N localhost || give_up "slurmd did not start"
  wait_for_node
  say "up (partition test, $(nproc) CPUs) in $dir"
  echo "export SLURM_CONF=$conf"
}

# Ends the daemons whose pid files are given: TERM to all, then KILL to
# those still there after 5 s.
stop_daemons() {
  pids=""
  for pid_file in "$@"; do
    [ -s "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    kill "$pid" 2>/dev/null && pids="$pids $pid"
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=""
    for pid in $pids; do
      kill -0 "$pid" 2>/dev/null && alive="$alive $pid"
    done
    [ -z "$alive" ] && return 0
    sleep 0.5
  done
  for pid in $alive; do kill -9 "$pid" 2>/dev/null || true; done
}

stop() {
  [ -d "$dir" ] || return 0
  # Jobs first: a job's slurmstepd outlives slurmd.
  if [ -s "$dir/slurmctld.pid" ] && [ -n "$(SLURM_CONF=$conf squeue -h 2>/dev/null)" ]; then
    SLURM_CONF=$conf scancel --partition=test 2>/dev/null || true
    sleep 2
  fi
  stop_daemons "$dir/slurmd.pid" "$dir/slurmctld.pid"
  stop_daemons "$dir/munged.pid"
  rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status)
  [ -f "$conf" ] || die "not running (no $conf)"
  SLURM_CONF=$conf sinfo
  ;;
env) echo "export SLURM_CONF=$conf" ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 2
  ;;
esac
