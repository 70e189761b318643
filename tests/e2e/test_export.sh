# dptrain export: ONNX (valid under onnx.checker; its graph evaluated node by node), .npz and
# safetensors (loaded by hand) give predict's outputs to 1e-5 for every kind of output (softmax,
# [1-p, p] logistic, regression) and hidden activation; checkpoints carry the same tensors
# under /state_dict; a bad --to is a clear error.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/cls.h5" --rows 300 --features 7 --classes 4 --seed 3 >/dev/null
"$DPTRAIN" gen --out "$WORK/bin.h5" --rows 300 --features 5 --classes 2 --seed 4 >/dev/null
"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 300 --features 6 --targets 2 --seed 5 >/dev/null
train=(train --epochs 2 --batch 50 --seed 1 --progress off --lr 0.1)
run_mpi 2 "${train[@]}" --data "$WORK/cls.h5" --model mlp:16,8 --checkpoint "$WORK/mlp.h5" >/dev/null
"$DPTRAIN" "${train[@]}" --data "$WORK/cls.h5" --model mlp:6 --activation tanh --checkpoint "$WORK/mlpt.h5" >/dev/null
"$DPTRAIN" "${train[@]}" --data "$WORK/cls.h5" --model mlp:5 --activation sigmoid --checkpoint "$WORK/mlps.h5" >/dev/null
run_mpi 2 "${train[@]}" --data "$WORK/bin.h5" --model logistic --checkpoint "$WORK/logistic.h5" >/dev/null
"$DPTRAIN" "${train[@]}" --data "$WORK/reg.h5" --model linear --checkpoint "$WORK/linear.h5" >/dev/null
checks=()
for pair in mlp:cls mlpt:cls mlps:cls logistic:bin linear:reg; do
  name=${pair%%:*} data=$WORK/${pair##*:}.h5
  "$DPTRAIN" predict --model "$WORK/$name.h5" --data "$data" --out "$WORK/$name-pred.h5" >/dev/null
  for to in onnx npz safetensors; do
    "$DPTRAIN" export --model "$WORK/$name.h5" --to "$to" --out "$WORK/$name.$to" >/dev/null
  done
  checks+=("$WORK/$name.h5" "$WORK/$name" "$data" "$WORK/$name-pred.h5")
done
"$PYTHON" "$(dirname "$0")/export_check.py" "${checks[@]}" || fail "exports differ from predict"
pass "mlp relu/tanh/sigmoid, logistic, linear: onnx, npz, safetensors give predict's outputs to 1e-5"
expect_failure bad_format "--to 'pt': expected onnx, npz or safetensors" 1 export --model "$WORK/mlp.h5" --to pt --out "$WORK/x"
expect_failure no_model "cannot load checkpoint: .*missing.h5: no such file" 1 export --model "$WORK/missing.h5" --to npz --out "$WORK/x"
# The checkpoint's attributes as h5py users see them: strings are str, the checksum a uint64.
py "
import h5py, numpy as np
a = h5py.File('$WORK/mlp.h5', 'r').attrs
for key in ('model', 'activation', 'loss', 'optimizer', 'config'):
    assert isinstance(a[key], str), (key, type(a[key]))
assert a['checksum'].dtype == np.uint64, a['checksum'].dtype
" || fail "checkpoint attributes: strings not str or checksum not uint64"
pass "checkpoint attributes: strings read as str in h5py, checksum is a uint64"
