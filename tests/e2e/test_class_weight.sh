# --class-weight: scikit-learn's meaning. One full-batch SGD step from the zero start of a
# softmax / logistic model equals the weighted gradient computed in NumPy, with "balanced"
# weights from sklearn's compute_class_weight over the training rows; 3 ranks train exactly as
# 1; bad lists and regressions are refused.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/cls.h5" --rows 240 --features 5 --classes 3 --seed 11 >/dev/null
"$DPTRAIN" gen --out "$WORK/bin.h5" --rows 240 --features 4 --classes 2 --seed 12 >/dev/null
step=(train --epochs 1 --batch 1000 --lr 0.5 --progress off)

# one_step CHECKPOINT DATA WEIGHTS(balanced|list) [VAL_FRACTION SEED]: the NumPy step vs the checkpoint.
one_step() {
  "$PYTHON" - "$@" <<'PY'
import sys, h5py, numpy as np
from sklearn.utils.class_weight import compute_class_weight
ckpt, data, option = sys.argv[1:4]
f = h5py.File(data, "r")
x = f["features"][...].astype(np.float64)
y = f["labels"][...].astype(np.int64).ravel()
c = h5py.File(ckpt, "r")
k = 2 if c.attrs["loss"] in ("bce", b"bce") else int(c.attrs["classes"][0])
if option == "balanced":
    w = compute_class_weight("balanced", classes=np.arange(k), y=y)
else:
    w = np.array([float(v) for v in option.split(",")])
wi = w[y]
n, lr = len(y), 0.5
if k == 2 and c["state_dict"]["0.weight"].shape[0] == 1:  # logistic: p = 0.5 at zero weights
    r = wi * (0.5 - y)
    W = -lr / n * (r @ x)[None, :]
    b = np.array([-lr / n * r.sum()])
else:
    R = wi[:, None] * (np.full((n, k), 1.0 / k) - np.eye(k)[y])
    W = -lr / n * R.T @ x
    b = -lr / n * R.sum(axis=0)
got_W = c["state_dict"]["0.weight"][...]
got_b = c["state_dict"]["0.bias"][...]
err = max(np.max(np.abs(got_W - W)), np.max(np.abs(got_b - b)))
print(f"weights {np.round(w, 4)}: max |param - numpy| = {err:.2g}")
sys.exit(0 if err <= 1e-5 else 1)
PY
}

run_mpi 2 "${step[@]}" --data "$WORK/cls.h5" --model softmax --class-weight balanced --checkpoint "$WORK/bal.h5" >"$WORK/bal.log"
one_step "$WORK/bal.h5" "$WORK/cls.h5" balanced || fail "softmax balanced: not the weighted gradient step"
grep -q "class weights:" "$WORK/bal.log" || fail "the weights are not logged"
pass "softmax --class-weight balanced on 2 ranks: $(grep 'class weights' "$WORK/bal.log")"
run_mpi 1 "${step[@]}" --data "$WORK/cls.h5" --model softmax --class-weight 0.5,2,1 --checkpoint "$WORK/list.h5" >/dev/null
one_step "$WORK/list.h5" "$WORK/cls.h5" 0.5,2,1 || fail "softmax 0.5,2,1: not the weighted gradient step"
run_mpi 2 "${step[@]}" --data "$WORK/bin.h5" --model logistic --class-weight 1,3 --checkpoint "$WORK/bin1.h5" >/dev/null
one_step "$WORK/bin1.h5" "$WORK/bin.h5" 1,3 || fail "logistic 1,3: not the weighted gradient step"
pass "explicit weights: softmax 0.5,2,1 and logistic 1,3 match NumPy"

# Exact across ranks: several steps, an MLP, balanced weights.
more=(train --data "$WORK/cls.h5" --model mlp:8 --epochs 3 --batch 40 --lr 0.1 --class-weight balanced --progress off)
run_mpi 1 "${more[@]}" --checkpoint "$WORK/r1.h5" >/dev/null
run_mpi 3 "${more[@]}" --checkpoint "$WORK/r3.h5" >/dev/null
params_close "$WORK/r3.h5" "$WORK/r1.h5" 1e-5 || fail "--class-weight: 3 ranks differ from 1"
pass "--class-weight balanced: 3 ranks train as 1"

expect_failure wrong_count "--class-weight '1,2' gives 2 weight\\(s\\); the model has 3 classes" 2 \
  "${step[@]}" --data "$WORK/cls.h5" --class-weight 1,2
expect_failure not_number "--class-weight '1,x,2': 'x' is not a positive number" 1 \
  "${step[@]}" --data "$WORK/cls.h5" --class-weight 1,x,2
"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 50 --features 3 --targets 1 --seed 2 >/dev/null
expect_failure regression "--class-weight needs a classifier" 2 "${step[@]}" --data "$WORK/reg.h5" --model linear --class-weight balanced
