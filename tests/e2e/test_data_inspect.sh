# dptrain inspect: datasets with type, shape and storage, feature statistics, NaN/Inf counts
# and the label histogram of an h5py file (mean over the 39 finite values: 753 / 39), printed
# once under mpirun; errors name the file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
py "
import h5py, numpy as np
X = np.arange(40, dtype=np.float64).reshape(20, 2)
X[13, 1] = np.nan
y = np.array([0, 1, 1, 2] * 5, dtype=np.int8)
with h5py.File('$WORK/f.h5', 'w') as f:
    f.create_dataset('train/X', data=X, chunks=(8, 2), compression='gzip', shuffle=True)
    f.create_dataset('train/y', data=y)
    f.create_dataset('lzf', data=X, compression='lzf')
"
out=$WORK/inspect.out
timeout 60 "$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" inspect "$WORK/f.h5" --features-name /train/X \
  --labels-name /train/y >"$out" 2>&1 || { cat "$out"; fail "inspect failed"; }
cat "$out"
expect_line() {
  [ "$(grep -cF -- "$1" "$out")" -eq 1 ] || fail "inspect: expected the line '$1' once"
}
expect_line "/train/X             float64  [20, 2]  chunked [8, 2]  shuffle,deflate(4)"
expect_line "/train/y             int8     [20]  contiguous"
expect_line "/lzf                 float64  [20, 2]  chunked [20, 2]  lzf (lzf: not available here)"
expect_line "features '/train/X': 20 rows x 2 columns; min 0, max 39, mean 19.3077"
expect_line "non-finite: 1 NaN and 0 Inf feature values, 0 NaN and 0 Inf labels; 1 bad rows (first: row 13"
expect_line "labels '/train/y': 1 column(s), integer values; min 0, max 2, mean 1"
expect_line "class histogram (3 classes):"
grep -qE "^ +1 +10  50.00%$" "$out" || fail "inspect: class 1 should have 10 rows (50%)"
pass "inspect shows datasets, storage, statistics, NaN count and histogram, once on 2 ranks"
expect_every_rank_fails inspect-missing "dptrain: error: $WORK/none.h5: no such file" 2 inspect "$WORK/none.h5"
