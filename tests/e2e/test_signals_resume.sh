# A real SIGTERM/SIGUSR1 on one rank: every rank stops at the same step boundary, a checkpoint
# is written and the job exits 75; resuming on another rank count completes the run with
# parameters bitwise equal to an uninterrupted run (--deterministic). A second SIGINT exits
# at once with 130.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 3001 --features 10 --classes 3 --seed 5
args=(train --data "$WORK/d.h5" --model mlp:12 --epochs 3 --batch 64 --lr 0.05 --optimizer adam
      --deterministic --progress off)
run_mpi 1 "${args[@]}" --checkpoint "$WORK/ref.h5" >/dev/null

# SIGTERM reaches rank 1 only (rank 0, which prints, stops because rank 1 did); SIGUSR1 reaches rank 0.
for sig in sigterm sigusr1; do
  ck=$WORK/ck-$sig
  code=0
  signalled=1 said="a signal received by another rank"
  [ "$sig" = sigusr1 ] && signalled=0 said=SIGUSR1
  DPTRAIN_FAULT="rank=$signalled,step=70,kind=$sig" run_mpi 2 "${args[@]}" --checkpoint-dir "$ck" \
    --checkpoint-every 20steps >"$WORK/$sig.log" 2>&1 || code=$?
  [ "$code" -eq 75 ] || { cat "$WORK/$sig.log"; fail "$sig: exit code $code, expected 75"; }
  grep -q "stopping on $said at epoch 2, step 24 of 47" "$WORK/$sig.log" || { cat "$WORK/$sig.log"; fail "$sig: no stop message"; }
  newest=$(ls "$ck" | sort | tail -1)
  [ "$newest" = "ckpt-e00001-s0000000071.h5" ] || fail "$sig: newest checkpoint is $newest"
  pass "$sig on rank $signalled: every rank stopped after global step 70, exit 75, checkpoint $newest"
  run_mpi 3 "${args[@]}" --threads 2 --checkpoint-dir "$ck" --resume auto --checkpoint "$WORK/res-$sig.h5" >"$WORK/res.log"
  grep -q "resumed from $ck/ckpt-e00001-s0000000071.h5 at epoch 2, step 24" "$WORK/res.log" || { cat "$WORK/res.log"; fail "no resume message"; }
  params_close "$WORK/res-$sig.h5" "$WORK/ref.h5" 0 || fail "$sig: p=2 interrupted + p=3 resumed differs from uninterrupted p=1"
  pass "$sig: p=2 then resumed on p=3 x 2 threads is bitwise equal to p=1"
done

# --resume auto with an empty folder starts fresh; --resume FILE resumes from that file.
run_mpi 2 "${args[@]}" --checkpoint-dir "$WORK/empty" --resume auto --epochs 1 >"$WORK/fresh.log"
grep -q "no checkpoint in $WORK/empty; starting fresh" "$WORK/fresh.log" || fail "no fresh-start message"
pass "--resume auto on an empty folder starts fresh"

code=0
DPTRAIN_FAULT="rank=0,step=10,kind=sigint2" run_mpi 2 "${args[@]}" >"$WORK/int2.log" 2>&1 || code=$?
[ "$code" -eq 130 ] || { cat "$WORK/int2.log"; fail "second SIGINT: exit $code, expected 130"; }
grep -q "second interrupt, stopping at once" "$WORK/int2.log" || fail "no second-interrupt message"
pass "second SIGINT exits at once with 130"
