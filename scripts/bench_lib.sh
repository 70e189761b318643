# The shared start of the benchmarks that train under mpirun and record each rank's peak memory
# (bench_memory.sh, bench_stream.sh). Source it after `set -euo pipefail`; it sets
#   root     the repository,  dptrain  the binary ($DPTRAIN, default build/dptrain),
# and the environment for mpirun as root with more ranks than cores and for HDF5 without locks.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dptrain=${DPTRAIN:-$root/build/dptrain}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HDF5_USE_FILE_LOCKING=FALSE

# bench_workdir NAME [DIR]: sets work to DIR (kept), or to a new temporary folder removed on exit.
bench_workdir() {
  work=${2:-}
  if [ -z "$work" ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-bench-$1.XXXXXX")
    trap 'rm -rf "$work"' EXIT
  fi
  mkdir -p "$work"
}

# peak_rss_mib PREFIX NP LOG ARGS...: runs `dptrain ARGS` on NP ranks (its output into LOG) and
# prints each rank's peak RSS in MiB, in rank order, on one line (scripts/peak_rss.py writes
# them to PREFIX.<rank>).
peak_rss_mib() {
  local prefix=$1 np=$2 log=$3
  shift 3
  rm -f "$prefix."*
  mpirun -np "$np" --bind-to none /usr/bin/python3 "$root/scripts/peak_rss.py" "$prefix" "$dptrain" "$@" >"$log"
  local r out=""
  for ((r = 0; r < np; r++)); do out+="$(( $(cat "$prefix.$r") / 1024 )) "; done
  echo "$out"
}
