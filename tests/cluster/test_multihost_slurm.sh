# The shipped Slurm script on a two-node Slurm cluster (cluster_slurm.sh) over two emulated
# hosts (cluster_lib.sh): slurmctld on h1, slurmd on h1 and h2. The jobs are submitted from h1
# (slurm_jobs.sh):
#  1. train.sbatch --nodes=2 --ntasks-per-node=2 with sbatch --wait: exit 0, 4 ranks on 2 hosts
#     in the run layout report, a model equal to 1 rank x 1 thread, one metrics line per epoch.
#  2. Preemption: `scontrol requeue` of a running two-node job; it starts again, resumes from
#     its checkpoint (epoch 1 runs once) and completes.
# Exits 77 (CTest: skipped) only when namespaces cannot be made here (no privilege); a missing
# tool is installed (iproute2) or fails the test.
# KEEP_WORK=1 keeps the job outputs and daemon logs (the path is printed at the end).
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
source "$(dirname "$0")/cluster_slurm.sh"

skip_unless_hosts_can_be_made
missing=$(slurm_missing)
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  echo "installing Slurm (missing: $missing)"
  "$SOURCE_DIR/scripts/install-deps.sh" slurm-wlm munge >/dev/null 2>&1 || true
  missing=$(slurm_missing)
fi
[ -z "$missing" ] || fail "Slurm is not installed and could not be (missing: $missing; apt-get install slurm-wlm munge)"

finish() {
  local code=$?
  stop_slurm_cluster
  destroy_hosts
  if [ "$code" -ne 0 ]; then
    for f in "$WORK"/job-*.out "$WORK"/slurm/log/slurm*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }
    done
  fi
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$code"
}
trap finish EXIT
trap 'exit 143' INT TERM

start=$SECONDS
make_hosts "$WORK/cluster" || fail "could not make the two emulated hosts"
start_slurm_cluster "$WORK/slurm" || fail "could not start the two-node Slurm cluster"
pass "two-node Slurm cluster up in $((SECONDS - start)) s: $(run_on h1 sinfo -h -N -o '%N (%c CPUs, %T)' | tr '\n' ' ')"

# Open MPI inside the jobs: TCP between the hosts, over the test interface only (sbatch passes
# the environment on to the job, srun to the ranks).
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=$CLUSTER_IFACE
run_on h1 timeout 300 bash "$CLUSTER_LIB_DIR/slurm_jobs.sh" "$WORK"
