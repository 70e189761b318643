#!/usr/bin/env bash
# dptrain on this machine under mpirun, with ranks x threads chosen for its CPUs and the
# binding flags that go with them.
#
#   scripts/run-local.sh train --data train.h5 --val test.h5 --model mlp:256,128 --epochs 10
#   scripts/run-local.sh -n 2 -t 4 train --config run.toml
#   scripts/run-local.sh --dry-run -t 2 train --data train.h5     # print the mpirun command only
#
# Options (before the dptrain subcommand; RANKS and THREADS in the environment work too):
#   -n, --ranks N     MPI ranks (default: CPUs / threads)
#   -t, --threads T   OpenMP threads per rank (default: 1, or CPUs / ranks when -n is given)
#   --dry-run         print the command instead of running it
# CPUs = `nproc` (the CPUs this shell may use). One thread per rank is the default because a
# rank's threads synchronise at every step while ranks meet only in the allreduce; threads pay
# off for large per-rank batches. Binding:
#   ranks x threads <= CPUs, 1 thread:  --map-by core --bind-to core   (one core per rank)
#   ranks x threads <= CPUs, T threads: --map-by slot:PE=T --bind-to core (T cores per rank)
#   more than the CPUs:                 --oversubscribe --bind-to none (dptrain warns)
# Plain `mpirun -np 2` would bind every rank to one core, so its threads would share it.
# Do not pass --threads to dptrain yourself: this script passes --threads T and OMP_NUM_THREADS.
# SIGTERM or Ctrl-C to this script stops train after a checkpoint with exit 75 (plain mpirun
# would exit 1): see "Stop signals" below.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$root/build/dptrain}
ranks=${RANKS:-}
threads=${THREADS:-}
dry_run=0
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case $1 in
    -n|--ranks) ranks=$2; shift 2 ;;
    -t|--threads) threads=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    -*) echo "run-local.sh: unknown option $1 (options go before the dptrain subcommand)" >&2; usage 2 >&2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "run-local.sh: missing the dptrain subcommand (e.g. train --data FILE)" >&2; exit 2; }
for v in "$ranks" "$threads"; do
  [[ -z "$v" || "$v" =~ ^[1-9][0-9]*$ ]] || { echo "run-local.sh: '$v' is not a positive count" >&2; exit 2; }
done

cpus=$(nproc)
if [ -z "$threads" ]; then
  if [ -n "$ranks" ]; then threads=$((cpus / ranks)); else threads=1; fi
  [ "$threads" -ge 1 ] || threads=1
fi
if [ -z "$ranks" ]; then
  ranks=$((cpus / threads))
  [ "$ranks" -ge 1 ] || ranks=1
fi

mpi=(mpirun -np "$ranks")
[ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)
if [ $((ranks * threads)) -gt "$cpus" ]; then
  echo "run-local.sh: $ranks rank(s) x $threads thread(s) exceed the $cpus CPU(s): oversubscribing, no binding" >&2
  mpi+=(--oversubscribe --bind-to none)
elif [ "$threads" -eq 1 ]; then
  mpi+=(--map-by core --bind-to core)
else
  mpi+=(--map-by "slot:PE=$threads" --bind-to core)
fi
mpi+=(-x "OMP_NUM_THREADS=$threads")

subcommand=$1
shift
command=("${mpi[@]}" "$dptrain" "$subcommand")
[ "$subcommand" != train ] || command+=(--threads "$threads")
command+=("$@")

echo "run-local.sh: $ranks rank(s) x $threads thread(s) on $cpus CPU(s)" >&2
if [ "$dry_run" = 1 ]; then
  printf '%q ' "${command[@]}"
  echo
  exit 0
fi
[ "$subcommand" = train ] || exec "${command[@]}"

# Stop signals for train. mpirun treats its own SIGTERM and SIGINT as "abort the job": it
# sends SIGTERM to the ranks, SIGKILL a second later, and exits 1 whatever they return. It
# forwards SIGUSR1 unchanged and then returns the ranks' own code. So SIGTERM and a first
# SIGINT (Ctrl-C) here become SIGUSR1 to mpirun: the ranks checkpoint and exit 75, and so
# does this script. A second SIGINT aborts mpirun and exits 130. mpirun runs in its own
# session (setsid) so that Ctrl-C reaches this script only, not mpirun directly.
setsid "${command[@]}" </dev/null &
mpirun_pid=$!
signals=0 interrupts=0
on_stop() {
  signals=$((signals + 1))
  [ "$1" = INT ] && interrupts=$((interrupts + 1))
  if [ "$interrupts" -ge 2 ]; then
    echo "run-local.sh: second SIGINT: aborting mpirun" >&2
    kill -INT "$mpirun_pid" 2>/dev/null || true
    wait "$mpirun_pid" 2>/dev/null || true
    exit 130
  fi
  echo "run-local.sh: got SIG$1; asking the ranks to checkpoint and stop (SIGUSR1 to mpirun)" >&2
  kill -USR1 "$mpirun_pid" 2>/dev/null || true
}
trap 'on_stop TERM' TERM
trap 'on_stop INT' INT
while :; do
  before=$signals
  status=0
  wait "$mpirun_pid" || status=$?
  [ "$signals" -eq "$before" ] && break
done
exit "$status"
