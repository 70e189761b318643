#!/usr/bin/env bash
# What crossing hosts costs: allreduce bandwidth (scripts/allreduce_bw.c, MPI_Allreduce of
# float32 in place) and dptrain training samples/s with 2 ranks x 1 thread, placed
#   1 host,  shared memory : both ranks on one emulated host, Open MPI's vader (shared memory)
#   1 host,  TCP           : both ranks on one host, forced onto TCP (--mca btl tcp,self)
#   2 hosts, TCP           : one rank on each of two emulated hosts (tests/cluster/cluster_lib.sh:
#                            network namespaces joined by a veth pair), TCP over the veth
# Every configuration runs on the same 2 cores, so the differences are the transports. A veth
# pair is a memory copy through the kernel's TCP stack, not a wire: it shows the cost of the
# TCP path (latency, copies, system calls), not a network's bandwidth (see BENCHMARKS.md).
# Needs root (namespaces). Usage: scripts/bench_multihost.sh [RUNS]   (after scripts/build.sh)
# Prints markdown tables (best of RUNS runs per cell) for BENCHMARKS.md. On a shared machine
# other processes' load shows up as outliers; the load average is printed with the results.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
dptrain="${DPTRAIN_BUILD_DIR:-$root/build}/dptrain"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
source "$root/tests/cluster/cluster_lib.sh"
problem=$(cluster_privilege_problem)
[ -z "$problem" ] || { echo "bench_multihost: cannot make the emulated hosts: $problem" >&2; exit 1; }
[ -x "$dptrain" ] || { echo "bench_multihost: $dptrain is missing; run scripts/build.sh" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-bench-multihost.XXXXXX")
trap 'destroy_hosts; rm -rf "$work"' EXIT
trap 'exit 143' INT TERM
make_hosts "$work/cluster"
mpicc -O2 -o "$work/allreduce_bw" "$root/scripts/allreduce_bw.c"
CLUSTER_MPI_TIMEOUT=600

configs=("1 host, shared memory" "1 host, TCP" "2 hosts, TCP")
# launch CONFIG-INDEX PROGRAM ARGS... : 2 ranks placed as configs[i] says
launch() {
  local i=$1
  shift
  case $i in
    0) timeout 600 "$CLUSTER_LIB_DIR/enter_host.sh" h1 mpirun -np 2 --bind-to none --mca btl vader,self "$@" ;;
    1) timeout 600 "$CLUSTER_LIB_DIR/enter_host.sh" h1 mpirun -np 2 --bind-to none --mca btl tcp,self "$@" ;;
    2) cluster_mpirun -np 2 --map-by node "$@" ;;
  esac
}

echo "Measured $(date -u +%F) with \`scripts/bench_multihost.sh $runs\` on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), Open MPI $(mpirun --version | head -1 | awk '{print $NF}'), best of $runs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Allreduce, 2 ranks, float32 sum in place: µs per call (busbw GB/s; with 2 ranks busbw = bytes / time),"
echo "nonblocking (MPI_Iallreduce + MPI_Wait, what dptrain calls) and blocking (MPI_Allreduce):"
echo
header="| bytes |"
for c in "${configs[@]}"; do header+=" $c, nonblocking | $c, blocking |"; done
echo "$header"
echo "|---:|---:|---:|---:|---:|---:|---:|"
declare -A cell best_us
for i in 0 1 2; do
  for ((r = 0; r < runs; r++)); do
    while read -r bytes kind u b; do
      key=$i,$kind,$bytes
      if [ -z "${best_us[$key]:-}" ] || /usr/bin/python3 -c "import sys; sys.exit(0 if $u < ${best_us[$key]} else 1)"; then
        best_us[$key]=$u
        cell[$key]="$u ($b)"
      fi
    done < <(launch "$i" "$work/allreduce_bw" 16 0.5 |
             /usr/bin/python3 -c 'import sys, json
for l in sys.stdin:
    r = json.loads(l)
    for k in ("nonblocking", "blocking"):
        print(r["bytes"], k, r[k + "_us"], r[k + "_busbw_GBps"])')
  done
done
for bytes in 4096 16384 65536 262144 1048576 4194304 16777216; do
  row="| $bytes |"
  for i in 0 1 2; do row+=" ${cell[$i,nonblocking,$bytes]} | ${cell[$i,blocking,$bytes]} |"; done
  echo "$row"
done

# Training: a latency-bound model (softmax, 330 parameters: one small allreduce per step) and a
# bandwidth-heavier one (mlp:256,128 on 784 features, 235k parameters = 0.94 MB per step).
"$dptrain" gen --out "$work/wide.h5" --rows 16000 --features 784 --classes 10 --seed 1 >/dev/null
"$dptrain" gen --out "$work/narrow.h5" --rows 16000 --features 32 --classes 10 --seed 1 >/dev/null
models=("softmax, 32 features, batch 64|--data $work/narrow.h5 --model softmax --batch 64 --lr 0.1"
        "mlp:256,128, 784 features, batch 128|--data $work/wide.h5 --model mlp:256,128 --batch 128 --lr 0.05")
echo
echo "Training, 2 ranks x 1 thread, 16000 rows, 2 epochs; samples/s of epoch 2 (and its comm_s):"
echo
echo "| model | $(IFS='|'; echo "${configs[*]}" | sed 's/|/ | /g') |"
echo "|---|---:|---:|---:|"
for m in "${models[@]}"; do
  name=${m%%|*}
  read -r -a args <<<"${m#*|}"
  row="| $name |"
  for i in 0 1 2; do
    top=0 comm=0
    for ((r = 0; r < runs; r++)); do
      launch "$i" "$dptrain" train "${args[@]}" --epochs 2 --seed 1 --progress off \
        --metrics "$work/m.jsonl" >/dev/null 2>&1
      read -r sps cs < <(/usr/bin/python3 -c 'import sys, json
r = [json.loads(l) for l in open(sys.argv[1])][-1]; print(round(r["samples_per_s"]), round(r["comm_s"], 2))' "$work/m.jsonl")
      if [ "$sps" -gt "$top" ]; then top=$sps; comm=$cs; fi
    done
    row+=" $top (comm $comm s) |"
  done
  echo "$row"
done
