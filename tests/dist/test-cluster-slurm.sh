#!/bin/bash
# sluice cluster with the slurm launcher: a one-node Slurm (slurmctld +
# slurmd, auth/none, all in a temp dir; ../shared/CLUSTERS.md section 1)
# runs a 3-task cluster through srun.  Skips (77) where Slurm is missing or
# its daemons cannot start.
# Usage: test-cluster-slurm.sh SLUICE
set -eu
SLUICE=$1
command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v srun >/dev/null \
  || { echo "no slurm: skipped"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "slurm test needs root: skipped"; exit 77; }
T=$(mktemp -d /tmp/slm-XXXXXX)
P=$(( 40000 + $$ % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1)),127.0.0.1:$((P+2))"
export SLURM_CONF=$T/slurm.conf
cleanup() {
  "$SLUICE" cluster down "$SPEC" --run-dir "$T/run" >/dev/null 2>&1 || true
  scancel --user=root 2>/dev/null || true
  scontrol shutdown 2>/dev/null || true
  sleep 0.3
  for f in "$T"/run/slurm*.pid; do
    p=$(cat "$f" 2>/dev/null) || continue
    case "$(cat /proc/$p/comm 2>/dev/null)" in slurmctld|slurmd) kill -9 "$p";; esac
  done
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T"/{state,spool,log,run}
cat > "$SLURM_CONF" <<EOC
ClusterName=sluicetest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(( 16000 + $$ % 500 * 2 ))
SlurmdPort=$(( 16001 + $$ % 500 * 2 ))
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
EnforcePartLimits=ALL
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOC
slurmctld || { echo "slurmctld did not start: skipped"; exit 77; }
slurmd -N localhost || { echo "slurmd did not start: skipped"; exit 77; }
up=0
for i in $(seq 1 100); do
  [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && { up=1; break; }
  sleep 0.1
done
[ $up = 1 ] || { echo "slurm did not come up: skipped"; cat "$T/log/"*; exit 77; }
"$SLUICE" cluster up "$SPEC" --run-dir "$T/run" --launcher slurm
"$SLUICE" cluster status "$SPEC" --run-dir "$T/run" | grep -c ' up ' | grep -qx 3
ls "$T/run/logs/" | grep -q slurm-task-2.log
"$SLUICE" cluster down "$SPEC" --run-dir "$T/run"
sleep 1
if "$SLUICE" cluster status "$SPEC" --run-dir "$T/run" >/dev/null; then echo "tasks still up after down"; exit 1; fi
echo ok
