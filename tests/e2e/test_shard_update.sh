# --shard-update on (ZeRO-1 style: reduce-scatter, each rank updates its part, allgather) on
# p ranks x t threads matches 1 rank x 1 thread to float rounding (momentum with weight decay,
# cosine warmup and clipping; Adam; AdaGrad), the optimizer state in its checkpoints is whole
# (gathered before writing: a resume continues bitwise), and bad combinations are refused.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/rings.h5" --rows 1001 --features 6 --classes 3 --pattern rings --seed 7 >/dev/null

check_grid() {  # NAME "NPxT ..." ARGS... : every sharded p x t run matches the 1 x 1 run
  local name=$1 grid=$2; shift 2
  run_mpi 1 "$@" --threads 1 --checkpoint "$WORK/$name-ref.h5" >/dev/null
  for pt in $grid; do
    local np=${pt%x*} t=${pt#*x}
    run_mpi "$np" "$@" --threads "$t" --shard-update on --timeline "$WORK/$name-$pt.json" \
      --checkpoint "$WORK/$name-$pt.h5" >/dev/null
    grep -q '"parameter allgather"' "$WORK/$name-$pt.json" || fail "$name $pt: no parameter allgather in the timeline"
    params_close "$WORK/$name-$pt.h5" "$WORK/$name-ref.h5" 1e-4 || fail "$name $pt differs from 1x1"
    pass "$name $pt (sharded update) matches 1x1"
  done
}

common=(train --data "$WORK/rings.h5" --epochs 3 --seed 3 --progress off)
check_grid momentum "2x1 2x2 3x1 4x1" "${common[@]}" --model mlp:16,8 --batch 64 --optimizer momentum \
  --momentum 0.9 --weight-decay 1e-3 --lr 0.05 --lr-schedule cosine --warmup-epochs 1 --clip-norm 5
check_grid adam "2x1" "${common[@]}" --model mlp:12 --activation tanh --batch 50 --optimizer adam --lr 0.01
check_grid adagrad "3x1" "${common[@]}" --model mlp:12 --batch 50 --optimizer adagrad --weight-decay 1e-3 --lr 0.05

# The final model file holds the whole optimizer state: the velocity matches 1x1's.
"$PYTHON" - "$WORK/momentum-2x1.h5" "$WORK/momentum-ref.h5" <<'PY' || fail "sharded velocity differs from 1x1"
import sys, h5py, numpy as np
a, b = (h5py.File(f, "r")["optimizer/velocity"][...].astype(np.float64) for f in sys.argv[1:])
rel = np.max(np.abs(a - b)) / np.max(np.abs(b))
print(f"velocity: max relative difference {rel:.3g}")
sys.exit(0 if rel <= 1e-4 else 1)
PY
pass "sharded 2x1 checkpoint holds the whole velocity (matches 1x1)"

# Resuming from an epoch checkpoint of a sharded run continues bitwise: the state outside
# rank 0's part was gathered before writing.
args=("${common[@]}" --model mlp:16,8 --batch 64 --optimizer adam --lr 0.01 --shard-update on)
run_mpi 2 "${args[@]}" --checkpoint-dir "$WORK/ck" --checkpoint-every 1 --keep-last 3 --checkpoint "$WORK/full.h5" >/dev/null
ck=$(ls "$WORK"/ck/ckpt-e00002-*.h5)
run_mpi 2 "${args[@]}" --resume "$ck" --checkpoint "$WORK/resumed.h5" >/dev/null
params_close "$WORK/resumed.h5" "$WORK/full.h5" 0 || fail "sharded resume differs from the uninterrupted run"
pass "sharded 2x1 resumed from epoch 2 is bitwise equal to the uninterrupted run"

expect_failure deterministic "--shard-update on needs --sync grad without --deterministic" 2 \
  "${common[@]}" --model mlp:4 --shard-update on --deterministic
expect_failure bad-value "--shard-update 'sometimes': expected auto, on or off" 1 \
  "${common[@]}" --model mlp:4 --shard-update sometimes
