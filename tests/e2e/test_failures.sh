# Failures never hang: an exception on one rank, a NaN, a stalled rank and a killed rank
# each end the whole job quickly with a clear message; the last checkpoint survives and
# resumes to the same result.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 2001 --features 8 --classes 3 --seed 9
args=(train --data "$WORK/d.h5" --model softmax --epochs 3 --batch 50 --lr 0.1 --progress off)

DPTRAIN_FAULT="rank=2,step=15,kind=throw" expect_failure "exception-on-rank-2" \
  "^dptrain: error: injected fault \(DPTRAIN_FAULT\) on rank 2 at step 15 \[rank 2\]$" 4 "${args[@]}"

DPTRAIN_FAULT="rank=1,step=45,kind=nan" expect_failure "nan-stops" \
  "dptrain: error: training diverged: non-finite loss or gradient at epoch 2, step 4 \(global step 45\)" \
  2 "${args[@]}" --checkpoint-dir "$WORK/nan" --checkpoint-every 1epochs
[ "$(ls "$WORK/nan")" = "ckpt-e00001-s0000000041.h5" ] || fail "the last good checkpoint is not kept: $(ls "$WORK/nan")"
pass "NaN: the last good checkpoint (epoch 1) is kept"
DPTRAIN_FAULT="rank=1,step=45,kind=nan" run_mpi 2 "${args[@]}" --on-nan skip-step --metrics "$WORK/skip.jsonl" >/dev/null \
  || fail "--on-nan skip-step did not finish"
[ "$(metric "$WORK/skip.jsonl" skipped_steps 2)" = "1" ] || fail "skip-step did not count the skipped step"
pass "--on-nan skip-step skips exactly one step"
# One NaN in one rank's gradient with every loss finite: through the node exchange only the rank
# whose part of the sum holds it sees it, and tells the others at the barrier after its fused
# update; through MPI every rank sees the summed gradient. Either way every rank stops at that
# step with the same message, or skips exactly that step.
for exchange in node-shm mpi; do
  DPTRAIN_FAULT="rank=2,step=45,kind=nan-gradient" EXPECT_CODE=1 expect_failure "nan-gradient-$exchange" \
    "dptrain: error: training diverged: non-finite loss or gradient at epoch 2, step 4 \(global step 45\)" \
    3 "${args[@]}" --model mlp:6 --exchange "$exchange"
  DPTRAIN_FAULT="rank=0,step=45,kind=nan-gradient" run_mpi 3 "${args[@]}" --model mlp:6 --exchange "$exchange" \
    --on-nan skip-step --metrics "$WORK/skip-$exchange.jsonl" >/dev/null \
    || fail "nan-gradient skip-step ($exchange) did not finish"
  [ "$(metric "$WORK/skip-$exchange.jsonl" skipped_steps 2)" = "1" ] || fail "nan-gradient ($exchange): skipped step not counted"
  pass "nan-gradient ($exchange): --on-nan skip-step skips exactly that step"
done
# The same with the parameters once for the node (large models), updated in place.
DPTRAIN_SHARED_PARAMETERS_FROM=0 DPTRAIN_FAULT="rank=2,step=45,kind=nan-gradient" EXPECT_CODE=1 \
  expect_failure "nan-gradient-node-shm-once" \
  "dptrain: error: training diverged: non-finite loss or gradient at epoch 2, step 4 \(global step 45\)" \
  3 "${args[@]}" --model mlp:6 --exchange node-shm
DPTRAIN_FAULT="rank=0,step=3,kind=nan-gradient" EXPECT_CODE=1 expect_failure "nan-gradient-deterministic" \
  "DPTRAIN_FAULT kind=nan-gradient: this run's exchange keeps no float gradient to poison" 2 "${args[@]}" --deterministic
DPTRAIN_FAULT="rank=1,step=45,kind=nan" expect_failure "nan-deterministic" \
  "dptrain: error: training diverged: non-finite loss or gradient at epoch 2, step 4 \(global step 45\)" \
  3 "${args[@]}" --deterministic

# A rank that stalls inside the loop: the others name it and abort within the stall timeout
# (the MPI allreduce's wait; test_node_exchange.sh stalls the node exchange's barrier).
start=$(date +%s)
DPTRAIN_FAULT="rank=1,step=20,kind=stall" expect_failure "stall" \
  "dptrain: error: rank 0 waited [0-9]+ s in 'gradient allreduce' \(--stall-timeout 3\); rank\(s\) 1 did not arrive" \
  3 "${args[@]}" --stall-timeout 3 --exchange mpi
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 30 ] || fail "stall detection took $elapsed s"
pass "stalled rank detected in $elapsed s"

# kill -9 of one rank mid-epoch: the job ends; the last checkpoint resumes to the same result.
dargs=("${args[@]}" --deterministic)
run_mpi 1 "${dargs[@]}" --checkpoint "$WORK/ref.h5" >/dev/null
code=0
DPTRAIN_FAULT="rank=1,step=70,kind=kill" timeout 60 "$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" "${dargs[@]}" \
  --checkpoint-dir "$WORK/kill" --checkpoint-every 25steps --stall-timeout 10 >"$WORK/kill.log" 2>&1 || code=$?
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] || fail "kill -9: exit code $code"
newest=$(ls "$WORK/kill" | sort | tail -1)
[ "$newest" = "ckpt-e00001-s0000000050.h5" ] || fail "kill -9: newest checkpoint $newest"
pass "kill -9 on rank 1 ended the job (exit $code); newest checkpoint $newest"
run_mpi 2 "${dargs[@]}" --checkpoint-dir "$WORK/kill" --resume auto --checkpoint "$WORK/after-kill.h5" >/dev/null
params_close "$WORK/after-kill.h5" "$WORK/ref.h5" 0 || fail "resume after kill -9 differs"
pass "resume after kill -9 is bitwise equal to the uninterrupted run"

# A truncated newest checkpoint: --resume FILE is a clear error, --resume auto falls back.
cp -r "$WORK/kill" "$WORK/trunc"
rm -f "$WORK/trunc"/ckpt-e00003*  # keep only the mid-run checkpoints
newest=$(ls "$WORK/trunc" | sort | tail -1)
truncate -s 1000 "$WORK/trunc/$newest"
expect_failure "truncated-checkpoint" "dptrain: error: .*$newest.*(truncated|corrupt|not a dptrain checkpoint)" \
  2 "${dargs[@]}" --resume "$WORK/trunc/$newest"
run_mpi 2 "${dargs[@]}" --checkpoint-dir "$WORK/trunc" --resume auto --checkpoint "$WORK/after-trunc.h5" >"$WORK/trunc.log"
grep -q "warning: .*$newest.*trying an older checkpoint" "$WORK/trunc.log" || { cat "$WORK/trunc.log"; fail "no fallback warning"; }
params_close "$WORK/after-trunc.h5" "$WORK/ref.h5" 0 || fail "fallback resume differs"
pass "--resume auto skipped the truncated checkpoint and still reproduced the run"

# An incompatible checkpoint: another model shape.
expect_failure "incompatible-checkpoint" "dptrain: error: .*the checkpoint holds model softmax 8-3.*this run builds mlp:4 8-4-3" \
  2 train --data "$WORK/d.h5" --model mlp:4 --epochs 1 --deterministic --progress off --resume "$WORK/ref.h5"
