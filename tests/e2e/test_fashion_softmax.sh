# The quickstart's job: softmax regression on Fashion-MNIST (Debian's dataset-fashion-mnist)
# on 2 ranks reaches at least 0.83 test accuracy.
source "$(dirname "$0")/lib.sh"
src=/usr/share/datasets/fashion-mnist
[ -f "$src/train-images-idx3-ubyte.gz" ] || fail "dataset-fashion-mnist is not installed"
for part in train t10k; do
  "$DPTRAIN" convert --from idx --input "$src/$part-images-idx3-ubyte.gz" \
    --labels "$src/$part-labels-idx1-ubyte.gz" --out "$WORK/$part.h5"
done
"$PYTHON" - "$WORK/train.h5" <<'PY' || fail "converted Fashion-MNIST has the wrong shape or scale"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
x, y = f["features"], f["labels"][...]
assert x.shape == (60000, 784) and y.shape == (60000,), (x.shape, y.shape)
row = x[0]
assert 0.0 <= row.min() and row.max() <= 1.0 and row.max() > 0.5
assert sorted(set(y.tolist())) == list(range(10))
print("converted: 60000 x 784 in [0, 1], labels 0..9")
PY
run_mpi 2 train --data "$WORK/train.h5" --val "$WORK/t10k.h5" --model softmax --epochs 20 \
  --batch 256 --optimizer momentum --lr 0.05 --lr-schedule cosine --progress off \
  --metrics "$WORK/m.jsonl" --checkpoint "$WORK/model.h5"
at_least "$(metric "$WORK/m.jsonl" val_accuracy)" 0.83 "Fashion-MNIST softmax test accuracy"
