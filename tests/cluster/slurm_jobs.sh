# The jobs of test_multihost_slurm.sh, run on h1 (the cluster's login node) with SLURM_CONF
# set. $1: the test's work folder (shared by both hosts).
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/../slurm/cluster.sh"  # job_field, wait_job_done, wait_for_text
rm -rf "$WORK"
WORK=$1
trap - EXIT
export DPTRAIN DPTRAIN_HOME=$SOURCE_DIR
sbatch_script=$SOURCE_DIR/scripts/slurm/train.sbatch
cd "$WORK"

# --- 1. A two-node job with sbatch --wait.
"$DPTRAIN" gen --out "$WORK/small.h5" --rows 2000 --features 16 --classes 3 --seed 1 >/dev/null
small=(--data "$WORK/small.h5" --model softmax --epochs 3 --batch 250 --lr 0.5 --seed 2)
"$MPIEXEC" -np 1 "$DPTRAIN" train "${small[@]}" --progress off --checkpoint "$WORK/small-1x1.h5" >/dev/null
code=0
RUN_DIR=$WORK/run-a timeout 150 sbatch --wait --parsable --job-name=a --nodes=2 --ntasks-per-node=2 \
  --cpus-per-task=1 --time=5 --output="$WORK/job-a.out" "$sbatch_script" "${small[@]}" >"$WORK/a.id" || code=$?
jid=$(cat "$WORK/a.id")
[ "$code" -eq 0 ] || fail "job a ($jid): sbatch --wait returned $code"
[ "$(job_field "$jid" ExitCode)" = "0:0" ] || fail "job a: ExitCode $(job_field "$jid" ExitCode)"
[ "$(job_field "$jid" NodeList)" = "h[1-2]" ] || fail "job a: NodeList $(job_field "$jid" NodeList), expected h[1-2]"
grep -q "run layout: 4 rank(s) on 2 host(s), 1 thread(s) per rank" "$WORK/job-a.out" ||
  fail "job a: no run layout line with 4 ranks on 2 hosts"
for r in 0 1; do grep -q "rank $r: host h1," "$WORK/job-a.out" || fail "job a: rank $r is not on h1"; done
for r in 2 3; do grep -q "rank $r: host h2," "$WORK/job-a.out" || fail "job a: rank $r is not on h2"; done
params_close "$WORK/run-a/model.h5" "$WORK/small-1x1.h5" 1e-5 || fail "job a: the model differs from 1 rank x 1 thread"
[ "$(wc -l <"$WORK/run-a/metrics.jsonl")" -eq 3 ] || fail "job a: expected 3 metrics lines"
at_least "$(metric "$WORK/run-a/metrics.jsonl" train_accuracy)" 0.8 "job a: train accuracy"
pass "job a ($jid): 2 nodes x 2 ranks, exit 0, ranks 0-1 on h1 and 2-3 on h2, model equals 1x1, 3 epochs of metrics"

# --- 2. A two-node job requeued (preempted) after epoch 2: it must resume and finish.
"$DPTRAIN" gen --out "$WORK/big.h5" --rows 4000 --features 32 --classes 4 --seed 3 >/dev/null
out=$WORK/job-b.out
jid=$(RUN_DIR=$WORK/run-b sbatch --parsable --job-name=b --nodes=2 --ntasks-per-node=2 --cpus-per-task=1 \
      --time=10 --output="$out" "$sbatch_script" --data "$WORK/big.h5" --model mlp:32 --epochs 6 --batch 32 \
      --lr 0.02 --seed 4)
wait_for_text "$out" '^epoch 2/' 150 || fail "job b: epoch 2 never finished"
scontrol requeue "$jid"
expect_requeued_then_completed "$jid" b
grep -q 'checkpoint saved' "$out" || fail "job b: no 'checkpoint saved' (exit 75) in the output"
grep -q '^epoch 6/6' "$out" || fail "job b: never reached epoch 6/6"
firsts=$(grep -c '^epoch 1/6' "$out" || true)
[ "$firsts" -eq 1 ] || fail "job b: epoch 1 ran $firsts times: the requeued job did not resume"
starts=$(grep -c 'run layout: 4 rank(s) on 2 host(s)' "$out" || true)
[ "$starts" -eq 2 ] || fail "job b: expected 2 starts on 2 hosts, saw $starts"
pass "job b ($jid): 2 nodes, requeued after epoch 2, checkpointed (75), resumed (epoch 1 ran once), completed"
