# --exchange node-shm (the step's exchange through the node's shared memory: rank-order sums,
# each rank updates its part): the run says it took that path, p ranks x t threads match 1x1 to
# float rounding, 2 ranks match the MPI path bitwise, checkpoints hold the whole optimizer state
# (a resume continues bitwise), and a failing or stalled rank ends the job (no hang); all of it
# with the parameters per rank and once for the node. With --deterministic the fixed-point sums
# go through shared memory too, bitwise 1x1.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/rings.h5" --rows 1001 --features 6 --classes 3 --pattern rings --seed 7 >/dev/null
common=(train --data "$WORK/rings.h5" --epochs 3 --seed 3 --progress off --model mlp:16,8 --batch 64)
momentum=(--optimizer momentum --momentum 0.9 --weight-decay 1e-3 --lr 0.05 --lr-schedule cosine --warmup-epochs 1)

run_mpi 1 "${common[@]}" "${momentum[@]}" --clip-norm 5 --threads 1 --checkpoint "$WORK/ref.h5" >/dev/null
# Both ways of holding the parameters: a copy per rank (what models this small get), and once
# for the node, updated in place (what large ones get; DPTRAIN_SHARED_PARAMETERS_FROM=0 forces it).
for mode in per-rank once; do
  if [ "$mode" = once ]; then export DPTRAIN_SHARED_PARAMETERS_FROM=0 kept=", kept once for the node"; else kept="parameters\\)"; fi
  for pt in 2x1 2x2 3x1 4x1; do
    np=${pt%x*} t=${pt#*x}
    out=$(run_mpi "$np" "${common[@]}" "${momentum[@]}" --clip-norm 5 --threads "$t" --exchange node-shm \
      --timeline "$WORK/$mode-$pt.json" --checkpoint "$WORK/$mode-$pt.h5" 2>&1)
    grep -qE "gradient exchange: node shared memory \\($np ranks on one node; [^)]*$kept" <<<"$out" \
      || { echo "$out" >&2; fail "$mode $pt: the run does not say it took the node exchange"; }
    grep -q '"node sum"' "$WORK/$mode-$pt.json" || fail "$mode $pt: no node sum span in the timeline"
    params_close "$WORK/$mode-$pt.h5" "$WORK/ref.h5" 1e-4 || fail "$mode $pt (node exchange) differs from 1x1"
    pass "$mode: $pt node exchange matches 1x1 (momentum, weight decay, cosine warmup, clipping)"
  done

  # Two ranks: a + b is b + a, and each part's update is the same arithmetic as the whole one's.
  run_mpi 2 "${common[@]}" "${momentum[@]}" --exchange mpi --overlap off --checkpoint "$WORK/mpi.h5" >/dev/null
  run_mpi 2 "${common[@]}" "${momentum[@]}" --exchange node-shm --checkpoint "$WORK/$mode-shm.h5" >/dev/null
  params_close "$WORK/$mode-shm.h5" "$WORK/mpi.h5" 0 || fail "$mode: 2x1 node exchange differs from the MPI allreduce"
  pass "$mode: 2x1 node exchange is bitwise equal to the MPI allreduce path"

  # Adam: the checkpoint's state is whole (gathered before writing), so a resume continues bitwise.
  args=("${common[@]}" --optimizer adam --lr 0.01 --exchange node-shm)
  run_mpi 3 "${args[@]}" --checkpoint-dir "$WORK/$mode-ck" --checkpoint-every 1 --keep-last 3 --checkpoint "$WORK/$mode-full.h5" >/dev/null
  run_mpi 3 "${args[@]}" --resume "$(ls "$WORK"/$mode-ck/ckpt-e00002-*.h5)" --checkpoint "$WORK/$mode-resumed.h5" >/dev/null
  params_close "$WORK/$mode-resumed.h5" "$WORK/$mode-full.h5" 0 || fail "$mode: node exchange resume differs from the uninterrupted run"
  run_mpi 1 "${common[@]}" --optimizer adam --lr 0.01 --checkpoint "$WORK/adam-ref.h5" >/dev/null
  "$PYTHON" - "$WORK/$mode-full.h5" "$WORK/adam-ref.h5" <<'PY' || fail "$mode: node exchange checkpoint's Adam state differs from 1x1"
import sys, h5py, numpy as np
for name in ("optimizer/m", "optimizer/v"):
    a, b = (h5py.File(f, "r")[name][...].astype(np.float64) for f in sys.argv[1:])
    rel = np.max(np.abs(a - b)) / np.max(np.abs(b))
    print(f"{name}: max relative difference {rel:.3g}")
    assert rel <= 1e-4, name
PY
  pass "$mode: 3x1 node exchange: checkpoint holds the whole Adam state; resume from epoch 2 is bitwise"

  unset DPTRAIN_SHARED_PARAMETERS_FROM
done

# No shared window (Open MPI's pt2pt one-sided component cannot map one): the run says so and
# falls back to the MPI allreduce, with the same result.
out=$(OMPI_MCA_osc=pt2pt run_mpi 2 "${common[@]}" "${momentum[@]}" --exchange node-shm --overlap off \
  --checkpoint "$WORK/fallback.h5" 2>&1)
grep -q "warning: --exchange node-shm: MPI_Win_allocate_shared .* failed on some rank; the gradient goes through MPI instead" \
  <<<"$out" || { echo "$out" >&2; fail "no fallback warning without a shared window"; }
params_close "$WORK/fallback.h5" "$WORK/mpi.h5" 0 || fail "the fallback differs from the MPI path"
pass "without a shared window the run warns and falls back to the MPI allreduce (bitwise the same)"

# Failures: an exception and a stalled rank end every rank with the agreed message.
"$DPTRAIN" gen --out "$WORK/f.h5" --rows 2001 --features 8 --classes 3 --seed 9 >/dev/null
fargs=(train --data "$WORK/f.h5" --model softmax --epochs 2 --batch 50 --lr 0.1 --progress off --exchange node-shm)
DPTRAIN_FAULT="rank=2,step=15,kind=throw" expect_failure "throw" \
  "^dptrain: error: injected fault \(DPTRAIN_FAULT\) on rank 2 at step 15 \[rank 2\]$" 3 "${fargs[@]}"
start=$(date +%s)
DPTRAIN_FAULT="rank=1,step=20,kind=stall" EXPECT_CODE=3 expect_failure "stall" \
  "dptrain: error: rank 0 waited [0-9]+ s in 'gradient exchange' \(--stall-timeout 3\); rank\(s\) 1 did not arrive" \
  3 "${fargs[@]}" --stall-timeout 3
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 30 ] || fail "stall detection took $elapsed s"
pass "stalled rank detected in $elapsed s"

expect_failure bad-value "--exchange 'fast': expected auto, mpi or node-shm" 1 "${common[@]}" --exchange fast
expect_failure with-shard-update "--exchange node-shm needs --sync grad without --shard-update on" \
  2 "${common[@]}" --exchange node-shm --shard-update on
expect_failure deterministic-clip "--exchange node-shm with --deterministic cannot take --clip-norm" \
  2 "${common[@]}" --exchange node-shm --deterministic --clip-norm 1

# --deterministic: the blocks' fixed-point gradients summed as integers in shared memory, each
# rank converting and updating its part: bitwise 1x1, also on 3 ranks x 2 threads.
dargs=("${common[@]}" "${momentum[@]}" --deterministic)
run_mpi 1 "${dargs[@]}" --checkpoint "$WORK/det-ref.h5" >/dev/null
out=$(run_mpi 3 "${dargs[@]}" --threads 2 --checkpoint "$WORK/det3.h5" 2>&1)
grep -q "gradient exchange: node shared memory (3 ranks on one node; .*, in fixed point)" <<<"$out" \
  || { echo "$out" >&2; fail "3x2 --deterministic: the run does not say it took the fixed-point node exchange"; }
params_close "$WORK/det3.h5" "$WORK/det-ref.h5" 0 || fail "3x2 --deterministic node exchange differs from 1x1"
pass "3x2 --deterministic node exchange is bitwise equal to 1x1"
out=$(DPTRAIN_SHARED_PARAMETERS_FROM=0 run_mpi 3 "${dargs[@]}" --threads 2 --checkpoint "$WORK/det3-once.h5" 2>&1)
grep -q "gradient exchange: node shared memory (3 ranks on one node; .*, kept once for the node, in fixed point)" <<<"$out" \
  || { echo "$out" >&2; fail "3x2 --deterministic, parameters once: the run does not say so"; }
params_close "$WORK/det3-once.h5" "$WORK/det-ref.h5" 0 || fail "3x2 --deterministic with the parameters once differs from 1x1"
pass "3x2 --deterministic node exchange with the parameters once for the node is bitwise equal to 1x1"
# With --clip-norm, auto keeps the MPI path (a norm summed by parts would depend on p).
run_mpi 1 "${dargs[@]}" --clip-norm 0.05 --checkpoint "$WORK/detclip-ref.h5" >/dev/null
out=$(run_mpi 2 "${dargs[@]}" --clip-norm 0.05 --checkpoint "$WORK/detclip.h5" 2>&1)
if grep -q "node shared memory" <<<"$out"; then fail "--deterministic --clip-norm took the node exchange"; fi
params_close "$WORK/detclip.h5" "$WORK/detclip-ref.h5" 0 || fail "2x1 --deterministic --clip-norm differs from 1x1"
params_close "$WORK/detclip.h5" "$WORK/det-ref.h5" 0 2>/dev/null && fail "--clip-norm 0.05 changed nothing"
pass "--deterministic --clip-norm keeps the MPI path, bitwise 1x1 (and clipping took effect)"
# A rank failing before its batch still takes part in the blocks' plan: every rank ends.
DPTRAIN_FAULT="rank=1,step=15,kind=throw" expect_failure "deterministic-throw" \
  "^dptrain: error: injected fault \(DPTRAIN_FAULT\) on rank 1 at step 15 \[rank 1\]$" 3 "${fargs[@]}" --deterministic
