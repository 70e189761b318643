# End to end: gen a linear regression problem with known weights, train on 2 ranks, and
# recover the true weights and bias from the saved model.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/train.h5" --rows 4000 --features 8 --targets 2 --noise 0.01 --seed 21
run_mpi 2 train --data "$WORK/train.h5" --model linear --epochs 15 --batch 32 --lr 0.05 \
  --progress off --checkpoint "$WORK/model.h5" --metrics "$WORK/m.jsonl"
"$PYTHON" - "$WORK/train.h5" "$WORK/model.h5" <<'PY' || fail "true weights not recovered"
import sys, h5py, numpy as np
data, model = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
w_true, b_true = data["true_weights"][...], data["true_bias"][...]
k, d = w_true.shape
assert list(model.attrs["widths"]) == [d, k], model.attrs["widths"]
p = model["params"][...]
w = p[: k * d].reshape(d, k).T          # column-major [k x d]
b = p[k * d :]
err_w, err_b = np.max(np.abs(w - w_true)), np.max(np.abs(b - b_true))
print(f"max |w - w_true| = {err_w:.4f}, max |b - b_true| = {err_b:.4f}")
sys.exit(0 if err_w < 0.01 and err_b < 0.01 else 1)
PY
loss=$(metric "$WORK/m.jsonl" train_loss)
"$PYTHON" -c "import sys; sys.exit(0 if $loss < 2e-4 else 1)" || fail "final MSE $loss not near the noise floor 1e-4"
pass "linear weights recovered; final train MSE $loss"
