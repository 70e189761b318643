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

# start_munge DIR [LAUNCHER...]: munged with a new key, socket DIR/munge/munge.socket.2, logs
# in DIR/log; started through LAUNCHER when given (e.g. a command that enters a namespace).
start_munge() {
  local d=$1
  shift
  mkdir -p "$d/munge" "$d/log"
  # munged refuses a socket whose folders others cannot traverse (mktemp -d makes 0700).
  chmod go+x "$(dirname "$d")" "$d" "$d/munge"
  mungekey --create --keyfile="$d/munge/munge.key" >/dev/null
  "$@" munged --foreground --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket.2" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  local deadline=$((SECONDS + 30)) pid=$!
  until [ -S "$d/munge/munge.socket.2" ]; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "start_munge: munged did not start:" >&2
      cat "$d/log/munged.out" >&2
      return 1
    fi
    sleep 0.1
  done
}

# slurm_conf_common DIR: the slurm.conf lines every test cluster shares: root daemons, munge
# through DIR's munged, state, spool and controller files in DIR, no cgroups, PMIx, requeue.
# The caller adds the cluster name, host, ports, TmpFS, slurmd files and nodes.
slurm_conf_common() {
  local d=$1
  cat <<CONF
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket.2
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd.%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmctldLogFile=$d/log/slurmctld.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
CONF
}

start_cluster() {
  CLUSTER_DIR=$1
  local d=$CLUSTER_DIR
  mkdir -p "$d/state" "$d/spool/slurmd.localhost" "$d/log" "$d/tmp"
  start_munge "$d" || return 1

  local ctld_port slurmd_port hardware deadline
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  [ "$slurmd_port" != "$ctld_port" ] || slurmd_port=$((ctld_port + 1))
  # The node's real CPUs, sockets and memory, as slurmd itself sees them.
  hardware=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  {
    slurm_conf_common "$d"
    cat <<CONF
ClusterName=dptrain-test
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
TmpFS=$d/tmp
SlurmdPidFile=$d/slurmd.pid
SlurmdLogFile=$d/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 $hardware
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  } >"$d/slurm.conf"
  export SLURM_CONF=$d/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  slurmd -D -f "$SLURM_CONF" -N localhost >"$d/log/slurmd.out" 2>&1 &
  CLUSTER_PIDS+=($!)

  wait_nodes_idle "localhost=idle" || { tail -n 20 "$d"/log/* >&2 || true; return 1; }
}

# wait_nodes_idle EXPECTED [LAUNCHER...]: until `sinfo` lists the nodes as EXPECTED (sorted
# NAME=STATE pairs, space-separated, e.g. "h1=idle h2=idle"), 60 s at most; fails at once when
# a daemon of CLUSTER_PIDS has died. Slurm commands run through LAUNCHER when given.
wait_nodes_idle() {
  local expected=$1 state="" pid deadline=$((SECONDS + 60))
  shift
  while [ $SECONDS -lt $deadline ]; do
    state=$("$@" timeout 5 sinfo -h -N -o '%N=%T' 2>/dev/null | sort | paste -sd ' ' || true)
    [ "$state" = "$expected" ] && return 0
    for pid in "${CLUSTER_PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "Slurm: a daemon (pid $pid) exited; nodes '$state'" >&2; return 1; }
    done
    sleep 0.2
  done
  echo "Slurm: the nodes did not become '$expected' within 60 s (they are '$state')" >&2
  return 1
}

# cancel_all_jobs [LAUNCHER...]: scancel every job and wait (20 s at most) until none is left.
# Jobs go before the daemons: their slurmstepd processes are not children of slurmd and would
# outlive it.
cancel_all_jobs() {
  local jobs i
  jobs=$("$@" timeout 5 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
  [ -n "${jobs// /}" ] || return 0
  "$@" timeout 5 scancel $jobs 2>/dev/null || true
  for i in $(seq 1 100); do
    [ -z "$("$@" timeout 5 squeue -h -o %A 2>/dev/null || true)" ] && break
    sleep 0.2
  done
}

stop_cluster() {
  [ -n "$CLUSTER_DIR" ] || return 0
  [ -z "${SLURM_CONF:-}" ] || [ ${#CLUSTER_PIDS[@]} -lt 3 ] || cancel_all_jobs
  stop_daemons
  CLUSTER_DIR=""
}

# stop_daemons: TERM to every daemon in CLUSTER_PIDS, KILL to any still there after 5 s.
stop_daemons() {
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
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

# expect_requeued_then_completed JOBID NAME : after the caller interrupted job JOBID (requeue,
# USR1): the job must be requeued (it is released at once: Slurm holds a requeued job about
# two minutes), start again and complete with exit code 0 and one restart. Uses fail/pass.
expect_requeued_then_completed() {
  local jid=$1 name=$2 state="" deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    state=$(job_field "$jid" JobState)
    [ "$state" = PENDING ] && { scontrol update JobId="$jid" StartTime=now; break; }
    [ "$state" = COMPLETED ] && fail "job $name completed before it was interrupted: make the run longer"
    sleep 0.1
  done
  [ "$state" = PENDING ] || fail "job $name: never requeued (state $state)"
  state=$(wait_job_done "$jid" 180) || fail "job $name: did not finish ($state)"
  [ "$(job_field "$jid" JobState)" = COMPLETED ] || fail "job $name: state $(job_field "$jid" JobState)"
  [ "$(job_field "$jid" ExitCode)" = "0:0" ] || fail "job $name: ExitCode $(job_field "$jid" ExitCode)"
  [ "$(job_field "$jid" Restarts)" = 1 ] || fail "job $name: Restarts $(job_field "$jid" Restarts), expected 1"
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
