#!/usr/bin/env bash
# Stop the cluster tests/slurm/start.sh started in <folder>: cancel its jobs first (their processes
# outlive slurmd), then slurmd, slurmctld and munged. Client commands hang 10-20 s when slurmctld is
# down, so they run only while its pid is alive.
set -uo pipefail
DIR=$(realpath "${1:?usage: stop.sh <state folder>}")
export SLURM_CONF="$DIR/slurm.conf"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if alive "$DIR/run/slurmctld.pid"; then
  scancel --full --signal=KILL --state=RUNNING "--partition=debug" 2>/dev/null
  scancel "--partition=debug" 2>/dev/null
  for _ in $(seq 50); do
    [ -z "$(squeue -h -t RUNNING,COMPLETING,PENDING,REQUEUED -o %i 2>/dev/null)" ] && break
    sleep 0.2
  done
fi
pids=()
for pidfile in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
  alive "$pidfile" && pids+=("$(cat "$pidfile")")
done
[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
for pid in "${pids[@]}"; do
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
done
exit 0
