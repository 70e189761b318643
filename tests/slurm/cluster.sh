# A one-node Slurm cluster on this machine, for tests: munged, slurmctld and slurmd from
# Debian's packages, run as root in the foreground with all state in one private folder and
# free TCP ports, so it touches no system configuration and can run beside another copy.
#   start_cluster DIR   starts the daemons, waits until the node is idle, exports SLURM_CONF
#   stop_cluster        cancels every job of this cluster, stops the daemons it started
# Needs: munged, mungekey, slurmctld, slurmd, sbatch, scontrol (apt-get install slurm-wlm munge).

CLUSTER_PIDS=()
CLUSTER_DIR=""

slurm_missing() {  # prints the missing commands, if any
  local c missing=()
  for c in munged mungekey slurmctld slurmd sbatch srun scontrol squeue scancel sinfo; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  echo "${missing[*]}"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_cluster() {
  CLUSTER_DIR=$1
  local d=$CLUSTER_DIR
  mkdir -p "$d/munge" "$d/state" "$d/spool/slurmd.localhost" "$d/log" "$d/tmp"
  # munged refuses a socket whose folders others cannot traverse (mktemp -d makes 0700).
  chmod go+x "$(dirname "$d")" "$d" "$d/munge"
  mungekey --create --keyfile="$d/munge/munge.key" >/dev/null
  munged --foreground --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket.2" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  local deadline=$((SECONDS + 30))
  until [ -S "$d/munge/munge.socket.2" ]; do
    if ! kill -0 "${CLUSTER_PIDS[0]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "start_cluster: munged did not start:" >&2
      cat "$d/log/munged.out" >&2
      return 1
    fi
    sleep 0.1
  done

  local ctld_port slurmd_port hardware
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  [ "$slurmd_port" != "$ctld_port" ] || slurmd_port=$((ctld_port + 1))
  # The node's real CPUs, sockets and memory, as slurmd itself sees them.
  hardware=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  cat >"$d/slurm.conf" <<CONF
ClusterName=dptrain-test
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket.2
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd.%n
TmpFS=$d/tmp
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
NodeName=localhost NodeAddr=127.0.0.1 $hardware
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$d/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  slurmd -D -f "$SLURM_CONF" -N localhost >"$d/log/slurmd.out" 2>&1 &
  CLUSTER_PIDS+=($!)

  local state=""
  deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    state=$(timeout 5 sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    sleep 0.2
  done
  echo "start_cluster: the node did not become idle within 60 s (state '$state')" >&2
  tail -n 20 "$d"/log/* >&2 || true
  return 1
}

stop_cluster() {
  [ -n "$CLUSTER_DIR" ] || return 0
  if [ -n "${SLURM_CONF:-}" ] && [ ${#CLUSTER_PIDS[@]} -ge 3 ]; then
    # Jobs first: their slurmstepd processes are not children of slurmd and would outlive it.
    local jobs i
    jobs=$(timeout 5 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      timeout 5 scancel $jobs 2>/dev/null || true
      for i in $(seq 1 100); do
        [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
  CLUSTER_DIR=""
}

# job_field JOBID FIELD : one field of `scontrol show job` (first array task for an array).
job_field() {
  timeout 10 scontrol -o show job "$1" 2>/dev/null | head -1 | grep -oP "(?<=\b$2=)\S+" || true
}

# wait_job_done JOBID SECONDS : until every task of the job has a final state; prints the states.
wait_job_done() {
  local jid=$1 deadline=$((SECONDS + $2)) states=""
  while [ $SECONDS -lt $deadline ]; do
    states=$(timeout 10 scontrol -o show job "$jid" 2>/dev/null | grep -oP '(?<=\bJobState=)\S+' | sort -u | tr '\n' ' ')
    if [ -n "$states" ] && ! grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUE|SUSPENDED|RESIZING|SIGNALING|STAGE_OUT' <<<"$states"; then
      echo "$states"
      return 0
    fi
    sleep 0.2
  done
  echo "timeout ($states)"
  return 1
}

# wait_for_text FILE REGEX SECONDS : until FILE contains a line matching REGEX.
wait_for_text() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
