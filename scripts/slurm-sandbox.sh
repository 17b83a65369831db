#!/usr/bin/env bash
# slurm-sandbox.sh: a real Slurm cluster on this machine for migctl's Slurm
# verbs: its own munge key and socket, slurmctld, one slurmd per node, each
# node backed by its own simulated GPUs (a migctl sim state file) and device
# folder. No systemd, nothing written under /etc; ports chosen free at start.
#
#   eval "$(scripts/slurm-sandbox.sh start DIR [NODES] [--gpus SPEC])"
#   srun --gres=gpu:1g.10gb:1 ...; migctl slurm reconfigure --node gpu1 -f ...
#   scripts/slurm-sandbox.sh stop DIR
#
# `start` prints the export lines (SLURM_CONF, MIGCTL_SLURM_NODE_DIR,
# MIGCTL_SLURM_CTLD_RESTART, MIGCTL); `stop` kills exactly the processes
# whose pid files it wrote. `restart-ctld DIR` is what reconfigure runs to
# restart slurmctld. Needs root (mknod, slurmd as root). MIGCTL names the
# migctl binary (default: build/migctl next to this script).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  echo "usage: $0 start DIR [NODES] [--gpus SPEC] | stop DIR | restart-ctld DIR" >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
B=$(realpath -m "$2")
shift 2

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop_pidfile() {
  local f=$1 p
  [ -f "$f" ] || return 0
  p=$(cat "$f" 2>/dev/null || true)
  if pid_alive "$p"; then
    kill "$p" 2>/dev/null || true
    # slurmctld saves its state on the way out: give it time (a loaded
    # machine is slow), and never start the next one while it lives.
    for _ in $(seq 200); do pid_alive "$p" || break; sleep 0.05; done
    if pid_alive "$p"; then
      kill -9 "$p" 2>/dev/null || true
      for _ in $(seq 100); do pid_alive "$p" || break; sleep 0.05; done
    fi
  fi
  rm -f "$f"
}

case "$cmd" in
stop)
  # Jobs first (their slurmstepd outlive slurmd), then slurmd (they talk to
  # slurmctld), then slurmctld, then munged.
  if [ -f "$B/run/slurmctld.pid" ]; then
    jobs=$(SLURM_CONF="$B/etc/slurm.conf" squeue -h -o %A 2>/dev/null || true)
    [ -n "$jobs" ] && SLURM_CONF="$B/etc/slurm.conf" scancel --full $jobs 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF="$B/etc/slurm.conf" squeue -h -o %A 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  for f in "$B"/run/slurmd-*.pid; do stop_pidfile "$f"; done
  stop_pidfile "$B/run/slurmctld.pid"
  stop_pidfile "$B/run/munged.pid"
  exit 0
  ;;
restart-ctld)
  export SLURM_CONF="$B/etc/slurm.conf"
  stop_pidfile "$B/run/slurmctld.pid"
  slurmctld -f "$SLURM_CONF"
  # slurmctld daemonizes and writes its pid file; wait for it to answer
  # (up to 30 s: a loaded 2-core machine can be slow).
  for _ in $(seq 600); do scontrol ping 2>/dev/null | grep -q " is UP" && exit 0; sleep 0.05; done
  echo "slurmctld did not come back; see $B/log/slurmctld.log" >&2
  exit 1
  ;;
start) ;;
*) usage ;;
esac

N=1
GPUS=8xH100-SXM5-80GB
while [ $# -gt 0 ]; do
  case "$1" in
  --gpus) GPUS=$2; shift 2 ;;
  --gpus=*) GPUS=${1#--gpus=}; shift ;;
  [0-9]*) N=$1; shift ;;
  *) usage ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "slurm-sandbox: needs root (mknod, slurmd)" >&2; exit 1; }
"$here/scripts/install-deps.sh" >&2
MIGCTL=${MIGCTL:-$here/build/migctl}
[ -x "$MIGCTL" ] || { echo "slurm-sandbox: no migctl at $MIGCTL (build first)" >&2; exit 1; }

# Free TCP ports on loopback: read /proc/net/tcp{,6} (no ss/netstat needed).
used_ports() {
  local f l
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    tail -n +2 "$f" | while read -r _ l _; do echo $((16#${l##*:})); done
  done | sort -un
}
pick_base() { # a run of $1 free ports
  local need=$1 used base ok
  used=" $(used_ports | tr '\n' ' ') "
  for _ in $(seq 200); do
    base=$((20000 + RANDOM % 40000))
    ok=1
    for ((p = base; p < base + need; p++)); do
      case "$used" in *" $p "*) ok=0; break ;; esac
    done
    [ $ok -eq 1 ] && { echo "$base"; return 0; }
  done
  return 1
}
base=$(pick_base $((N + 1)))
ctld_port=$base
first_slurmd=$((base + 1))

rm -rf "$B"/{state,spool,log,run}
mkdir -p "$B"/{etc,state,spool,log,run,munge,nodes}
chmod 700 "$B/munge"
dd if=/dev/urandom of="$B/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$B/munge/munge.key"
/usr/sbin/munged --key-file="$B/munge/munge.key" --socket="$B/munge/munge.socket" \
  --pid-file="$B/run/munged.pid" --log-file="$B/log/munged.log" --seed-file="$B/munge/seed" --force

cat >"$B/etc/task-prolog.sh" <<EOF
#!/bin/sh
# TaskProlog: the job's slices by MIG UUID.
exec "$MIGCTL" slurm task-prolog
EOF
chmod 755 "$B/etc/task-prolog.sh"

{
  cat <<EOF
# Written by scripts/slurm-sandbox.sh; NodeName Gres= lines are rewritten by migctl slurm.
ClusterName=migsandbox
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$B/munge/munge.socket
SlurmctldPort=$ctld_port
StateSaveLocation=$B/state
SlurmdSpoolDir=$B/spool/%n
SlurmctldPidFile=$B/run/slurmctld.pid
SlurmdPidFile=$B/run/slurmd-%n.pid
SlurmctldLogFile=$B/log/slurmctld.log
SlurmdLogFile=$B/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
TaskProlog=$B/etc/task-prolog.sh
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerParameters=sched_interval=1
ReturnToService=2
GresTypes=gpu,mps
EOF
  for n in $(seq 1 "$N"); do
    echo "NodeName=gpu$n NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((first_slurmd + n - 1)) CPUs=16 RealMemory=2000 State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=gpu[1-$N] Default=YES MaxTime=INFINITE State=UP"
} >"$B/etc/slurm.conf"
echo "AutoDetect=off" >"$B/etc/gres.conf"

export SLURM_CONF="$B/etc/slurm.conf" MIGCTL_SLURM_NODE_DIR="$B/nodes"
for n in $(seq 1 "$N"); do
  "$MIGCTL" sim init --gpus "$GPUS" --force --sim "$B/nodes/gpu$n.json" >/dev/null
  "$MIGCTL" slurm gres --node "gpu$n" --write >/dev/null
done

slurmctld -f "$SLURM_CONF"
for n in $(seq 1 "$N"); do
  mkdir -p "$B/spool/gpu$n"
  slurmd -f "$SLURM_CONF" -N "gpu$n"
done
up=0
for _ in $(seq 300); do
  if [ "$(sinfo -h -N -t idle -o '%N' 2>/dev/null | wc -l)" -ge "$N" ]; then up=1; break; fi
  sleep 0.1
done
if [ $up -ne 1 ]; then
  echo "slurm-sandbox: cluster did not come up; see $B/log" >&2
  "$0" stop "$B"
  exit 1
fi
cat <<EOF
export SLURM_CONF='$B/etc/slurm.conf'
export MIGCTL_SLURM_NODE_DIR='$B/nodes'
export MIGCTL_SLURM_CTLD_RESTART='$here/scripts/slurm-sandbox.sh restart-ctld $B'
export MIGCTL='$MIGCTL'
EOF
