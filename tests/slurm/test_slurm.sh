# The shipped Slurm scripts on a real (one-node) Slurm cluster started here:
#  1. train.sbatch with sbatch --wait, 1 task x 2 CPUs: exit code 0, --cpus-per-task became 2
#     threads per rank, the model file holds /params, one metrics line per epoch.
#  2. Preemption: `scontrol requeue` of a running 2-rank job; the requeued job starts again,
#     resumes from its checkpoint and completes.
#  3. Time limit: USR1 to the batch shell (what --signal=B:USR1@120 sends); the trap forwards it
#     to the ranks, they checkpoint and exit 75, the script requeues the job, which resumes and
#     completes.
# Both preemption paths always run: no part of this test is skipped silently.
#  4. sweep.sbatch as a 2-task job array: one metrics file per learning rate.
# Exits 77 (CTest: skipped) only when Slurm is not installed and cannot be (not root).
# Needs a node with at least 2 CPUs (the jobs ask for 2).
# KEEP_WORK=1 keeps the job outputs and cluster logs (the path is printed at the end).
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/cluster.sh"

missing=$(slurm_missing)
if [ -n "$missing" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing Slurm (missing: $missing)"
  "$SOURCE_DIR/scripts/install-deps.sh" slurm-wlm munge >/dev/null 2>&1 || true
  missing=$(slurm_missing)
fi
if [ -n "$missing" ]; then
  echo "SKIP: Slurm is not installed (missing: $missing) and cannot be installed here" \
       "(needs root and apt-get: apt-get install slurm-wlm munge)"
  exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the test cluster runs slurmd as root (SlurmdUser=root); run the test as root"
  exit 77
fi

finish() {
  local code=$?
  stop_cluster
  if [ "$code" -ne 0 ] && [ "$code" -ne 77 ]; then
    for f in "$WORK"/job-*.out; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    [ -f "$WORK/cluster/log/slurmctld.log" ] && { echo "--- slurmctld.log"; tail -n 20 "$WORK/cluster/log/slurmctld.log"; }
  fi
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap finish EXIT
trap 'exit 143' INT TERM  # so that a killed test still stops its daemons (via EXIT)

t0=$(date +%s.%N)
start_cluster "$WORK/cluster" || fail "could not start the Slurm cluster"
pass "one-node Slurm cluster up in $(/usr/bin/python3 -c "import time; print(round(time.time() - $t0, 1))") s ($(sinfo -h -o '%c CPUs, node %T'))"

node_cpus=$(sinfo -h -o %c)
[ "$node_cpus" -ge 2 ] || fail "the jobs need a node with at least 2 CPUs; this one has $node_cpus"

# Captured first: `"$DPTRAIN" train --help | grep -q` under pipefail fails with SIGPIPE when
# grep exits before the help text is written, which once skipped both preemption paths.
train_help=$("$DPTRAIN" train --help 2>&1) || fail "dptrain train --help failed"
grep -q -- '--resume' <<<"$train_help" || fail "dptrain train --help has no --resume: preemption cannot resume"

sbatch_script=$SOURCE_DIR/scripts/slurm/train.sbatch
export DPTRAIN DPTRAIN_HOME=$SOURCE_DIR
cd "$WORK"

# --- 1. A normal job, submitted with sbatch --wait.
"$DPTRAIN" gen --out "$WORK/small.h5" --rows 2000 --features 16 --classes 3 --seed 1 >/dev/null
code=0
RUN_DIR=$WORK/run-a timeout 150 sbatch --wait --parsable --job-name=a --nodes=1 --ntasks-per-node=1 --cpus-per-task=2 \
  --time=5 --output="$WORK/job-a.out" "$sbatch_script" \
  --data "$WORK/small.h5" --model softmax --epochs 3 --batch 250 --lr 0.5 --seed 2 >"$WORK/a.id" || code=$?
jid=$(cat "$WORK/a.id")
[ "$code" -eq 0 ] || fail "job a ($jid): sbatch --wait returned $code"
[ "$(job_field "$jid" ExitCode)" = "0:0" ] || fail "job a: ExitCode $(job_field "$jid" ExitCode)"
grep -q "run layout: 1 rank(s) on 1 host(s), 2 thread(s) per rank" "$WORK/job-a.out" ||
  fail "job a: no run layout line with 1 rank x 2 threads (--cpus-per-task=2)"
py "
import h5py
p = h5py.File('$WORK/run-a/model.h5', 'r')['params']
assert p.shape == ((16 + 1) * 3,), p.shape
" || fail "job a: model.h5 has no /params of 51 floats"
[ "$(wc -l <"$WORK/run-a/metrics.jsonl")" -eq 3 ] || fail "job a: expected 3 metrics lines"
grep -q '^epochs=3$' "$WORK/run-a/metrics.config.toml" || fail "job a: no effective config next to the metrics"
at_least "$(metric "$WORK/run-a/metrics.jsonl" train_accuracy)" 0.8 "job a: train accuracy"
pass "job a ($jid): sbatch --wait exit 0, 1 rank x 2 threads, model and 3 epochs of metrics"

# --- 2. and 3. Interrupted 2-rank jobs that must come back and finish.
"$DPTRAIN" gen --out "$WORK/big.h5" --rows 40000 --features 32 --classes 4 --seed 3 >/dev/null
long_args=(--data "$WORK/big.h5" --model mlp:128,128 --epochs 20 --batch 16 --lr 0.02 --seed 4)

# interrupted_job NAME HOW : HOW = requeue (scontrol requeue) or usr1 (USR1 to the batch shell)
interrupted_job() {
  local name=$1 how=$2 out=$WORK/job-$1.out jid
  jid=$(RUN_DIR=$WORK/run-$name sbatch --parsable --job-name="$name" --nodes=1 --ntasks-per-node=2 \
        --cpus-per-task=1 --time=10 --output="$out" "$sbatch_script" "${long_args[@]}")
  wait_for_text "$out" '^epoch 2/' 120 || fail "job $name: epoch 2 never finished"
  if [ "$how" = requeue ]; then
    scontrol requeue "$jid"
  else
    scancel --batch --signal=USR1 "$jid"
  fi
  expect_requeued_then_completed "$jid" "$name"
  grep -q '^epoch 20/20' "$out" || fail "job $name: never reached epoch 20/20"
  py "
import h5py
assert h5py.File('$WORK/run-$name/model.h5', 'r')['params'].shape == (32 * 128 + 128 + 128 * 128 + 128 + 128 * 4 + 4,)
" || fail "job $name: model.h5 has no /params of the MLP's size"
  grep -q 'checkpoint saved' "$out" || fail "job $name: no 'checkpoint saved' (exit 75) in the output"
  grep -q 'resumed from .*/ckpt-e' "$out" || fail "job $name: the requeued job did not resume from a checkpoint"
  local firsts
  firsts=$(grep -c '^epoch 1/20' "$out" || true)
  [ "$firsts" -eq 1 ] || fail "job $name: epoch 1 ran $firsts times: the requeued job did not resume"
  pass "job $name ($jid): interrupted by $how after epoch 2, checkpointed (75), requeued, resumed (epoch 1 ran once), completed"
}

interrupted_job b requeue
interrupted_job c usr1
grep -q 'got SIGUSR1; asking the ranks' "$WORK/job-c.out" || fail "job c: the trap did not forward USR1"
grep -q 'requeueing job' "$WORK/job-c.out" || fail "job c: train.sbatch did not requeue itself"

# --- 4. The sweep: a job array with one metrics file per grid point.
jid=$(SWEEP_LR="0.05 0.5" SWEEP_BATCH="100" SWEEP_DIR=$WORK/sweep sbatch --parsable --array=0-1 \
      --ntasks=1 --cpus-per-task=1 --time=5 --output="$WORK/job-sweep-%a.out" \
      "$SOURCE_DIR/scripts/slurm/sweep.sbatch" --data "$WORK/small.h5" --model softmax --epochs 2 --seed 2)
state=$(wait_job_done "$jid" 120) || fail "sweep $jid: did not finish ($state)"
[ "$state" = "COMPLETED " ] || fail "sweep $jid: task states $state"
for lr in 0.05 0.5; do
  f=$WORK/sweep/lr$lr-batch100/metrics.jsonl
  [ "$(wc -l <"$f")" -eq 2 ] || fail "sweep: $f does not have 2 epochs"
  [ "$(metric "$f" lr)" = "$lr" ] || fail "sweep: $f was trained with lr $(metric "$f" lr), not $lr"
done
pass "sweep $jid: 2 array tasks, one metrics file per learning rate"
