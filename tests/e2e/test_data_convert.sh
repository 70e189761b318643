# convert --from csv|libsvm|npy: the same rows arrive in HDF5 from every format, train on 2
# ranks exactly like the h5py-written file, progress shows on request, a large CSV converts in
# bounded memory, and malformed lines stop every rank with the line number and content.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
"$PYTHON" - "$WORK" <<'PY'
import sys, gzip, h5py, numpy as np
w = sys.argv[1]
rng = np.random.default_rng(5)
n, d, k = 401, 5, 3
X = rng.normal(size=(n, d)).astype(np.float32)
X[X < -1.0] = 0.0  # some zeros, so the LIBSVM rows are sparse
y = np.argmax(X @ rng.normal(size=(d, k)), axis=1)
with h5py.File(f"{w}/ref.h5", "w") as f:
    f["features"] = X
    f["labels"] = y.astype(np.int64)
fmt = lambda v: "%.9g" % v  # round-trips float32
# CSV: header, label in the middle by name, CRLF line ends, gzip-compressed copy.
header = ["f0", "f1", "class", "f2", "f3", "f4"]
rows = [",".join([fmt(X[i, 0]), fmt(X[i, 1]), str(y[i])] + [fmt(v) for v in X[i, 2:]]) for i in range(n)]
text = ",".join(header) + "\r\n" + "\r\n".join(rows) + "\r\n"
open(f"{w}/data.csv", "w", newline="").write(text)
with gzip.open(f"{w}/data.csv.gz", "wt", newline="") as g:
    g.write(text)
# Semicolons, no header, label first.
open(f"{w}/data.ssv", "w").write("\n".join(";".join([str(y[i])] + [fmt(v) for v in X[i]]) for i in range(n)) + "\n")
# LIBSVM, 1-based, zeros left out, +-style labels mapped later.
with open(f"{w}/data.svm", "w") as f:
    for i in range(n):
        f.write(str(y[i]) + "".join(f" {j + 1}:{fmt(v)}" for j, v in enumerate(X[i]) if v != 0) + "\n")
# .npy: float64 features, int32 labels.
np.save(f"{w}/X.npy", X.astype(np.float64))
np.save(f"{w}/y.npy", y.astype(np.int32))
# A larger CSV for the memory bound: 150000 x 60 (36 MB of float32 features), and a small one.
B = rng.integers(-999, 999, size=(150000, 61))
B[:, -1] = B[:, -1] % 5 + 2
np.savetxt(f"{w}/big.csv", B, delimiter=",", fmt="%d")
np.savetxt(f"{w}/small.csv", B[:1000], delimiter=",", fmt="%d")
open(f"{w}/bad.csv", "w").write("a,b,y\n1,2,0\n3,4,1\n5,6\n")
open(f"{w}/bad.svm", "w").write("1 1:0.5\n0 2:x\n")
PY
cls=(--model softmax --epochs 3 --batch 32 --lr 0.3 --seed 4 --progress off)
run_mpi 1 train --data "$WORK/ref.h5" "${cls[@]}" --checkpoint "$WORK/ref-model.h5" >/dev/null

converted_trains_like_ref() {  # NAME CONVERT-ARGS...
  local name=$1; shift
  "$DPTRAIN" convert "$@" --out "$WORK/$name.h5" --progress off >"$WORK/$name.log" \
    || { cat "$WORK/$name.log"; fail "$name: convert failed"; }
  grep -q "wrote 401 rows x 5 features (labels int64" "$WORK/$name.log" || { cat "$WORK/$name.log"; fail "$name: summary"; }
  run_mpi 2 train --data "$WORK/$name.h5" "${cls[@]}" --checkpoint "$WORK/$name-model.h5" >/dev/null
  params_close "$WORK/$name-model.h5" "$WORK/ref-model.h5" 1e-5 || fail "$name trains differently"
  pass "$name: converted file trains on 2 ranks like the h5py file ($(cat "$WORK/$name.log"))"
}
converted_trains_like_ref csv --from csv --input "$WORK/data.csv" --label-column class
converted_trains_like_ref csv-gz --from csv --input "$WORK/data.csv.gz" --label-column 2 --gzip 5 --chunk-rows 64
converted_trains_like_ref ssv --from csv --input "$WORK/data.ssv" --delimiter ";" --label-column 0 --block-rows 7
converted_trains_like_ref libsvm --from libsvm --input "$WORK/data.svm"
converted_trains_like_ref libsvm-given --from libsvm --input "$WORK/data.svm" --features 5 --index-base 1
converted_trains_like_ref npy --from npy --input "$WORK/X.npy" --labels "$WORK/y.npy" --block-rows 50
"$PYTHON" -c "
import h5py, numpy as np, sys
f = h5py.File('$WORK/csv-gz.h5', 'r')
assert f['features'].compression == 'gzip' and f['features'].shuffle and f['features'].chunks == (64, 5), f['features'].chunks
assert f['features'].dtype == np.float32 and f['labels'].dtype == np.int64
" || fail "csv-gz: expected a chunked, gzip+shuffle float32 dataset"
pass "csv-gz: output is chunked (64 rows) with gzip and shuffle"

# Progress, on request (a terminal turns it on by itself).
"$DPTRAIN" convert --from csv --input "$WORK/data.csv" --label-column class --out "$WORK/p.h5" \
  --progress on 2>"$WORK/progress.err" >/dev/null
grep -q "convert: 100%  401 rows" "$WORK/progress.err" || fail "no progress line"
pass "progress line: $(tr '\r' '\n' <"$WORK/progress.err" | grep -a 100% | tr -d '\033' | head -1)"

# Memory: 150000 rows take no more memory to convert than 1000 rows (36 MB of features).
small=$(rank_peak_rss_mb 1 convert --from csv --input "$WORK/small.csv" --out "$WORK/small.h5" --block-rows 1024)
big=$(rank_peak_rss_mb 1 convert --from csv --input "$WORK/big.csv" --out "$WORK/big.h5" --block-rows 1024)
echo "peak RSS: $small MB for 1000 rows, $big MB for 150000 rows ($(du -m "$WORK/big.csv" | cut -f1) MB of CSV)"
[ $((big - small)) -le 9 ] || fail "converting 150000 rows took $((big - small)) MB more than 1000 rows"
pass "convert memory is bounded: +$((big - small)) MB for 150x the rows"
py "
import h5py; f = h5py.File('$WORK/big.h5', 'r'); assert f['features'].shape == (150000, 60), f['features'].shape
assert int(f['labels'][-1]) >= 2"

# Malformed lines: every rank stops, with the line number and its content.
expect_every_rank_fails csv-short-line \
  "dptrain: error: $WORK/bad.csv line 4: expected 3 fields \(as in the header\), found 2: '5,6'" \
  2 convert --from csv --input "$WORK/bad.csv" --out "$WORK/bad.h5"
expect_every_rank_fails libsvm-bad-value \
  "dptrain: error: $WORK/bad.svm line 2: value 'x' of index 2 is not a number: '0 2:x'" \
  2 convert --from libsvm --input "$WORK/bad.svm" --out "$WORK/bad.h5"
[ ! -e "$WORK/bad.h5" ] || fail "a failed convert left $WORK/bad.h5 behind"
pass "a failed convert leaves no output file"
