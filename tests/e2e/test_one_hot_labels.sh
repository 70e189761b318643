# One-hot float labels ([N, K] rows of 0/1 summing to 1) are refused by classifier-capable
# models with a message naming the file and dataset and saying how to store class ids;
# --loss mse still trains them as regression targets on purpose; class ids train.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$DPTRAIN" gen --out ids.h5 --rows 120 --features 4 --classes 3 --seed 5 >/dev/null
py "
import h5py, numpy as np
with h5py.File('ids.h5', 'r') as f, h5py.File('onehot.h5', 'w') as g:
    g['features'] = f['features'][:]
    g['labels'] = np.eye(3, dtype=np.float32)[f['labels'][:]]
    y = np.eye(3, dtype=np.float32)[f['labels'][:]]; y[5] = [0.2, 0.3, 0.5]
    with h5py.File('soft.h5', 'w') as s: s['features'] = f['features'][:]; s['labels'] = y
"
message="onehot.h5: '/labels' holds one-hot rows \(float \[N, 3\], each row 0/1 summing to 1\)"
expect_failure mlp "$message; --model mlp:8 would fit them as 3 regression targets \(MSE\)\. Use class ids: store numpy.argmax\(labels, axis=1\) as int64 '/labels'" 2 \
  train --data onehot.h5 --model mlp:8 --epochs 1 --progress off
expect_failure softmax "$message; --model softmax needs 1-D class ids\. Use class ids" 2 \
  train --data onehot.h5 --model softmax --epochs 1 --progress off
expect_failure mlp_ce "$message; --model mlp:8 --loss ce needs 1-D class ids\. Use class ids" 1 \
  train --data onehot.h5 --model mlp:8 --loss ce --epochs 1 --progress off

out=$(run_mpi 2 train --data onehot.h5 --model mlp:8 --loss mse --epochs 1 --progress off 2>&1)
grep -q "loss mse" <<<"$out" || { echo "$out"; fail "--loss mse: no regression run"; }
pass "--loss mse trains one-hot rows as 3 regression targets on purpose"
# Soft labels (one row is not one-hot) are regression targets, as before.
out=$(run_mpi 1 train --data soft.h5 --model mlp:8 --epochs 1 --progress off 2>&1)
grep -q "loss mse" <<<"$out" || { echo "$out"; fail "soft labels: no regression run"; }
out=$(run_mpi 2 train --data ids.h5 --model mlp:8 --epochs 1 --progress off 2>&1)
grep -q "loss ce" <<<"$out" || { echo "$out"; fail "class ids: no cross-entropy run"; }
pass "soft float labels stay regression targets; class ids train with cross-entropy"
