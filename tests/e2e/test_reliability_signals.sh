# Signals at any moment and the exit codes of a stop (issue 12, class 3), plus resume rules
# (class 4): a signal that arrives while the data loads is kept (a pending stop, taken at the
# first step); 75 only when a checkpoint was written, otherwise 128 + signal (130 SIGINT,
# 143 SIGTERM, 138 SIGUSR1) on every rank; mpirun's own SIGTERM/SIGINT through
# scripts/run-local.sh ends in 75 with a checkpoint (plain mpirun exits 1 on its own SIGTERM:
# documented and checked here, as is the SIGUSR1 it forwards); resuming with another --batch
# or --seed is refused unless --resume-reset-cursor.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 2000 --features 8 --classes 3 --seed 1 >/dev/null
args=(train --data "$WORK/d.h5" --model softmax --epochs 3 --batch 50 --progress off)

# each_rank NAME ARGS... : 2 ranks; prints "rank R exited C" per rank into $WORK/NAME.out.
each_rank() {
  local name=$1; shift
  timeout 60 "$MPIEXEC" -np 2 --bind-to none bash -c \
    '"$0" "$@"; c=$?; echo "rank $OMPI_COMM_WORLD_RANK exited $c"; exit $c' "$DPTRAIN" "$@" >"$WORK/$name.out" 2>&1
}
# codes NAME CODE : both ranks exited CODE.
codes() {
  [ "$(grep -c "^rank [01] exited $2\$" "$WORK/$1.out" || true)" -eq 2 ] || { cat "$WORK/$1.out"; fail "$1: expected exit $2 on both ranks"; }
}

# A SIGTERM while the data loads (before the first step) is not dropped.
code=0
DPTRAIN_FAULT="rank=1,step=load,kind=sigterm" each_rank load "${args[@]}" --checkpoint-dir "$WORK/ck-load" || code=$?
[ "$code" -eq 75 ] || { cat "$WORK/load.out"; fail "SIGTERM during the load: exit $code, expected 75"; }
codes load 75
grep -q "stopping on a signal received by another rank at epoch 1, step 1 of 40" "$WORK/load.out" ||
  { cat "$WORK/load.out"; fail "SIGTERM during the load: not stopped at the first step"; }
[ -f "$WORK/ck-load/ckpt-e00000-s0000000001.h5" ] || fail "SIGTERM during the load: no checkpoint after step 1"
pass "SIGTERM during the data load: pending stop taken at step 1, checkpoint written, exit 75 on both ranks"

# Without --checkpoint-dir nothing is saved: not 75 (a requeue would not resume), 128 + signal.
for case in sigterm:143 sigint:130 sigusr1:138; do
  kind=${case%%:*} want=${case##*:}
  code=0
  DPTRAIN_FAULT="rank=0,step=5,kind=$kind" each_rank "nock-$kind" "${args[@]}" || code=$?
  [ "$code" -eq "$want" ] || { cat "$WORK/nock-$kind.out"; fail "$kind without a checkpoint: exit $code, expected $want"; }
  codes "nock-$kind" "$want"
  grep -q "no --checkpoint-dir, so no checkpoint was written" "$WORK/nock-$kind.out" || fail "$kind: no warning"
  pass "$kind without --checkpoint-dir: every rank exits $want (not 75), with a warning"
done
# The signal is agreed: rank 1 got SIGUSR1, rank 0 none; both exit 138.
code=0
DPTRAIN_FAULT="rank=1,step=5,kind=sigusr1" each_rank nock-peer "${args[@]}" || code=$?
codes nock-peer 138
pass "a signal received by one rank: both ranks exit 128 + that signal (138)"

# mpirun's own signals. Plain mpirun: SIGUSR1 is forwarded (exit 75); its own SIGTERM aborts
# the job and mpirun exits 1 whatever the ranks return (documented in the README).
long=(train --data "$WORK/d.h5" --model mlp:64,64 --epochs 200 --batch 8 --progress off)
# started_then LOG PID SIGNAL : wait for the first epoch, then signal PID.
started_then() {
  local deadline=$((SECONDS + 60))
  until grep -q '^epoch 1/' "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { kill -KILL "$2" 2>/dev/null; cat "$1"; fail "run never reached epoch 1"; }
    sleep 0.2
  done
  kill -"$3" "$2"
}
"$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" "${long[@]}" --checkpoint-dir "$WORK/ck-usr1" >"$WORK/usr1.log" 2>&1 &
pid=$!
started_then "$WORK/usr1.log" "$pid" USR1
code=0; wait "$pid" || code=$?
[ "$code" -eq 75 ] || { cat "$WORK/usr1.log"; fail "SIGUSR1 to mpirun: exit $code, expected 75"; }
[ -n "$(ls "$WORK/ck-usr1")" ] || fail "SIGUSR1 to mpirun: no checkpoint"
pass "SIGUSR1 to mpirun is forwarded: checkpoint written, exit 75"

"$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" "${long[@]}" --checkpoint-dir "$WORK/ck-term" >"$WORK/term.log" 2>&1 &
pid=$!
started_then "$WORK/term.log" "$pid" TERM
code=0; wait "$pid" || code=$?
[ "$code" -eq 1 ] || { cat "$WORK/term.log"; fail "SIGTERM to plain mpirun: exit $code; the README says 1 (mpirun's own abort)"; }
pass "SIGTERM to plain mpirun: mpirun aborts the job and exits 1, as documented"

# scripts/run-local.sh turns SIGTERM and a first Ctrl-C into SIGUSR1 for mpirun: exit 75.
# Job control on (set -m): a background job of a script otherwise ignores SIGINT, as a
# Ctrl-C in a terminal never would.
export DPTRAIN
set -m
for sig in TERM INT; do
  "$SOURCE_DIR/scripts/run-local.sh" -n 2 -t 1 "${long[@]}" --checkpoint-dir "$WORK/ck-local-$sig" \
    >"$WORK/local-$sig.log" 2>&1 &
  pid=$!
  started_then "$WORK/local-$sig.log" "$pid" "$sig"
  code=0; wait "$pid" || code=$?
  [ "$code" -eq 75 ] || { cat "$WORK/local-$sig.log"; fail "SIG$sig to run-local.sh: exit $code, expected 75"; }
  ck=$(ls "$WORK/ck-local-$sig" | tail -1)
  [ -n "$ck" ] || fail "SIG$sig to run-local.sh: no checkpoint"
  pass "SIG$sig to scripts/run-local.sh: ranks checkpointed ($ck) and the launcher exits 75"
done
set +m

# Resume with another --batch or --seed: refused (2) unless --resume-reset-cursor.
DPTRAIN_FAULT="rank=0,step=10,kind=sigterm" run_mpi 2 "${args[@]}" --checkpoint-dir "$WORK/ck-r" >/dev/null 2>&1 || true
[ -f "$WORK/ck-r/ckpt-e00000-s0000000011.h5" ] || fail "no mid-epoch checkpoint to resume from: $(ls "$WORK/ck-r")"
for change in "--batch 40" "--seed 7"; do
  code=0
  # shellcheck disable=SC2086
  run_mpi 2 "${args[@]}" $change --checkpoint-dir "$WORK/ck-r" --resume auto >"$WORK/r.out" 2>&1 || code=$?
  [ "$code" -eq 2 ] || { cat "$WORK/r.out"; fail "resume with $change: exit $code, expected 2"; }
  grep -q "^dptrain: error: .*ckpt-e00000-s0000000011.h5: the checkpoint was written with --seed 42 and --batch 50; this run has" "$WORK/r.out" ||
    { cat "$WORK/r.out"; fail "resume with $change: unclear refusal"; }
  pass "resume with $change refused (exit 2), naming both settings"
done
run_mpi 2 "${args[@]}" --batch 40 --checkpoint-dir "$WORK/ck-r" --resume auto --resume-reset-cursor >"$WORK/reset.out" 2>&1 ||
  { cat "$WORK/reset.out"; fail "--resume-reset-cursor failed"; }
grep -q "resume-reset-cursor: the checkpoint had --seed 42 and --batch 50; epoch 1 restarts from its first step with --seed 42 and --batch 40" "$WORK/reset.out" ||
  { cat "$WORK/reset.out"; fail "--resume-reset-cursor: no note"; }
grep -q "resumed from .*ckpt-e00000-s0000000011.h5 at epoch 1, step 0" "$WORK/reset.out" || { cat "$WORK/reset.out"; fail "did not restart epoch 1"; }
grep -q "^epoch 3/3" "$WORK/reset.out" || fail "--resume-reset-cursor did not finish"
pass "--resume-reset-cursor keeps the model and restarts epoch 1 with the new batch"
