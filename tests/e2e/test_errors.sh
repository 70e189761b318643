# Bad input ends every rank with one clear message naming the file and dataset, a non-zero
# exit code, and no hang.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/good.h5" --rows 100 --features 4 --classes 3 --seed 1
"$PYTHON" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(f"{w}/short.h5", "w") as f:
    f["features"] = np.zeros((10, 4), np.float32)
    f["labels"] = np.zeros(9, np.int64)
with h5py.File(f"{w}/badlabel.h5", "w") as f:
    f["features"] = np.zeros((10, 4), np.float32)
    y = np.zeros(10, np.int64); y[7] = -1
    f["labels"] = y
PY
for np in 2 3; do
  expect_failure "missing-file-np$np" "dptrain: error: $WORK/nope.h5: no such file" \
    "$np" train --data "$WORK/nope.h5" --progress off
  expect_failure "missing-dataset-np$np" "dptrain: error: $WORK/good.h5: no dataset '/X'" \
    "$np" train --data "$WORK/good.h5" --features-name /X --progress off
  expect_failure "length-mismatch-np$np" \
    "dptrain: error: $WORK/short.h5: dataset '/labels' has 9 rows but '/features' has 10; expected the same row count" \
    "$np" train --data "$WORK/short.h5" --progress off
  expect_failure "missing-val-np$np" "dptrain: error: $WORK/noval.h5: no such file" \
    "$np" train --data "$WORK/good.h5" --val "$WORK/noval.h5" --progress off
done
# Row 7 belongs to the last rank only: the others must still stop, with its message.
expect_failure "bad-label-on-last-rank" \
  "dptrain: error: $WORK/badlabel.h5 row 7: label -1 in '/labels' is not a class id.*\[rank 1\]" \
  2 train --data "$WORK/badlabel.h5" --model softmax --classes 3 --progress off
expect_failure "bad-option" "dptrain: error: --sync 'sometimes': expected grad or params" \
  2 train --data "$WORK/good.h5" --sync sometimes --progress off
# A fault injected on rank 1 mid-training: every rank stops with rank 1's message.
DPTRAIN_FAULT="rank=1,step=3,kind=throw" expect_failure "exception-on-rank-1" \
  "dptrain: error: injected fault \(DPTRAIN_FAULT\) on rank 1 at step 3 \[rank 1\]" \
  3 train --data "$WORK/good.h5" --batch 10 --epochs 2 --progress off
