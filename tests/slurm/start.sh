#!/usr/bin/env bash
# A one-machine SLURM cluster for the tests: munged, slurmctld and slurmd as root, without systemd,
# all state under one folder. Usage: tests/slurm/start.sh <folder>; then `source <folder>/env` gives
# the client commands (SLURM_CONF, and PATH with a small sacct). Stop it with tests/slurm/stop.sh.
# Needs Debian's slurmctld, slurmd, slurm-client and munge packages (tested with Slurm 22.05).
set -euo pipefail
DIR=$(realpath "${1:?usage: start.sh <state folder>}")
mkdir -p "$DIR"/{munge,spool/ctld,spool/d,log,run,bin}
# munged checks that its socket folder is not writable by others, and its key's mode.
chmod 755 "$DIR" "$DIR/munge"
[ -f "$DIR/munge/munge.key" ] || mungekey --create --keyfile="$DIR/munge/munge.key" --bits=1024
chmod 400 "$DIR/munge/munge.key"
munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"

CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))  # half the machine's memory
cat > "$DIR/slurm.conf" <<CONF
ClusterName=xgentest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits about cred_expire + 1 s before it starts again (default 120;
# 5 s measured to work here).
AuthInfo=socket=$DIR/munge/munge.socket,cred_expire=5
# No cgroups, no systemd: processes tracked by parentage, no CPU binding, no accounting daemon.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Cores and memory are the consumable resources; without DefMemPerCPU one job takes all the memory.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$(( MEM_MB / CPUS ))
# Finished jobs stay visible to squeue (and so to the sacct stand-in) for 10 minutes.
MinJobAge=600
# A stopped job gets SIGTERM, then SIGKILL after KillWait seconds: time to save a checkpoint.
KillWait=10
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MailProg=/bin/true
StateSaveLocation=$DIR/spool/ctld
SlurmdSpoolDir=$DIR/spool/d
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=$(( 16817 + RANDOM % 1000 ))
SlurmdPort=$(( 17818 + RANDOM % 1000 ))
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# submitit asks sacct for the state of a job; accounting is off, so answer from squeue.
cat > "$DIR/bin/sacct" <<'SACCT'
#!/usr/bin/env bash
# sacct stand-in for `sacct -o JobID,State,NodeList --parsable2 -j <id> ...` (submitit's question).
ids=()
while [ $# -gt 0 ]; do case "$1" in -j) ids+=("$2"); shift 2 ;; *) shift ;; esac; done
echo "JobID|State|NodeList"
if [ ${#ids[@]} -eq 0 ]; then squeue -h -t all -o "%i|%T|%N"; exit; fi
squeue -h -t all -o "%i|%T|%N" | while IFS='|' read -r id state nodes; do
  for want in "${ids[@]}"; do
    case "$id" in "$want"|"$want"_*) echo "$id|$state|$nodes" ;; esac
  done
done
SACCT
chmod +x "$DIR/bin/sacct"
cat > "$DIR/env" <<ENV
export SLURM_CONF=$DIR/slurm.conf
export PATH=$DIR/bin:\$PATH
ENV
export SLURM_CONF="$DIR/slurm.conf"

slurmctld -i
slurmd -N localhost
for _ in $(seq 100); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  [ "$state" = idle ] && exit 0
  sleep 0.2
done
echo "start.sh: the node did not come up (state: ${state:-none}); logs in $DIR/log" >&2
exit 1
