# Bad input: every case ends every rank with a non-zero exit and one message naming the file,
# dataset, row or option and what was expected; nothing hangs. Cases allowed where meaningful
# (more ranks than rows, empty shards, a batch smaller than the rank count) train correctly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
"$DPTRAIN" gen --out "$WORK/good.h5" --rows 100 --features 4 --classes 3 --seed 1
"$PYTHON" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
def save(name, **datasets):
    with h5py.File(f"{w}/{name}.h5", "w") as f:
        for key, value in datasets.items():
            f.create_dataset(key.replace("__", "/"), data=value)
save("no_labels", features=X)
save("features_3d", features=X.reshape(10, 2, 2), labels=y)
save("features_1d", features=X[:, 0], labels=y)
save("row_mismatch", features=X, labels=y[:9])
save("string_features", features=np.array([[b"a", b"b"]] * 10), labels=y)
save("compound_features", features=np.array([(1.0, 2)] * 10, dtype=[("a", "f4"), ("b", "i4")]), labels=y)
save("string_labels", features=X, labels=np.array([b"cat"] * 10))
y_neg = y.copy(); y_neg[7] = -1
save("negative_label", features=X, labels=y_neg)
save("fractional_label", features=X, labels=np.where(np.arange(10) == 8, 1.5, y).astype(np.float32))
y_big = y.copy(); y_big[6] = 5
save("label_too_big", features=X, labels=y_big)
X_nan = X.copy(); X_nan[8, 3] = np.nan
save("nan_feature", features=X_nan, labels=y)
y_inf = y.astype(np.float64); y_inf[9] = np.inf
save("inf_label", features=X, labels=y_inf)
save("empty", features=np.zeros((0, 4), np.float32), labels=np.zeros(0, np.int64))
save("three_rows", features=X[:3], labels=y[:3])
with h5py.File(f"{w}/lzf.h5", "w") as f:
    f.create_dataset("features", data=X, compression="lzf")
    f["labels"] = y
PY
echo "features,labels" >"$WORK/text.h5"
head -c 3000 "$WORK/good.h5" >"$WORK/truncated.h5"
W=$WORK
t=(train --progress off)
# Files.
expect_every_rank_fails missing-file "dptrain: error: $W/nope.h5: no such file" 2 "${t[@]}" --data "$W/nope.h5"
expect_every_rank_fails not-hdf5 "dptrain: error: $W/text.h5: not an HDF5 file \(or truncated/corrupt\)" \
  2 "${t[@]}" --data "$W/text.h5"
expect_every_rank_fails truncated "dptrain: error: $W/truncated.h5: .*truncated" 2 "${t[@]}" --data "$W/truncated.h5"
expect_every_rank_fails missing-in-list "dptrain: error: $W/nope.h5: no such file" \
  3 "${t[@]}" --data "$W/good.h5,$W/nope.h5"
expect_every_rank_fails glob-matches-nothing "dptrain: error: $W/part-\*.h5: pattern matches no file" \
  2 "${t[@]}" --data "$W/part-*.h5"
# Datasets.
expect_every_rank_fails missing-dataset \
  "dptrain: error: $W/good.h5: no dataset '/X' \(features; name another with --features-name\); it has /features, /labels, /true_bias, /true_weights" \
  2 "${t[@]}" --data "$W/good.h5" --features-name /X
expect_every_rank_fails missing-labels \
  "dptrain: error: $W/no_labels.h5: no dataset '/labels' \(labels; name another with --labels-name\); it has /features" \
  2 "${t[@]}" --data "$W/no_labels.h5"
expect_every_rank_fails features-3d \
  "dptrain: error: $W/features_3d.h5: dataset '/features' has 3 dimension\(s\); expected 2-D \[rows, features\]" \
  2 "${t[@]}" --data "$W/features_3d.h5"
expect_every_rank_fails features-1d \
  "dptrain: error: $W/features_1d.h5: dataset '/features' has 1 dimension\(s\); expected 2-D \[rows, features\]" \
  2 "${t[@]}" --data "$W/features_1d.h5"
expect_every_rank_fails row-mismatch \
  "dptrain: error: $W/row_mismatch.h5: dataset '/labels' has 9 rows but '/features' has 10; expected the same row count" \
  2 "${t[@]}" --data "$W/row_mismatch.h5"
expect_every_rank_fails string-features \
  "dptrain: error: $W/string_features.h5: dataset '/features' has type string; expected float32/float64 \(or integer\) features" \
  2 "${t[@]}" --data "$W/string_features.h5"
expect_every_rank_fails compound-features \
  "dptrain: error: $W/compound_features.h5: dataset '/features' has type compound; expected float32/float64 \(or integer\) features" \
  2 "${t[@]}" --data "$W/compound_features.h5"
expect_every_rank_fails string-labels \
  "dptrain: error: $W/string_labels.h5: dataset '/labels' has type string; expected integer class ids or float targets" \
  2 "${t[@]}" --data "$W/string_labels.h5"
expect_every_rank_fails lzf-filter \
  "dptrain: error: $W/lzf.h5: dataset '/features' is compressed with lzf, which this HDF5 library cannot decode" \
  2 "${t[@]}" --data "$W/lzf.h5"
expect_every_rank_fails empty-dataset "dptrain: error: $W/empty.h5: the dataset has no rows" \
  2 "${t[@]}" --data "$W/empty.h5"
# Labels: the bad rows lie on the last of 2 ranks (rows 5-9); the first rank stops too.
expect_every_rank_fails negative-label \
  "dptrain: error: $W/negative_label.h5 row 7: label -1 in '/labels' is not a class id; expected an integer in \[0, 3\).*\[rank 1\]" \
  2 "${t[@]}" --data "$W/negative_label.h5" --model softmax
expect_every_rank_fails fractional-label \
  "dptrain: error: $W/fractional_label.h5 row 8: label 1.5 in '/labels' is not a class id; expected an integer in \[0, 3\)" \
  2 "${t[@]}" --data "$W/fractional_label.h5" --model softmax
expect_every_rank_fails label-too-big \
  "dptrain: error: $W/label_too_big.h5 row 6: label 5 in '/labels' is not a class id; expected an integer in \[0, 3\) \(set --classes, fix the labels, or --skip-bad-rows\)" \
  2 "${t[@]}" --data "$W/label_too_big.h5" --model softmax --classes 3
expect_every_rank_fails logistic-label \
  "dptrain: error: $W/good.h5 row [0-9]+: label 2 in '/labels' is not a class id; expected an integer in \[0, 2\) \(logistic and --loss bce take 0/1 labels; or --skip-bad-rows\)" \
  2 "${t[@]}" --data "$W/good.h5" --model logistic
# NaN/Inf: the first bad row is named, file and row within it.
expect_every_rank_fails nan-feature \
  "dptrain: error: $W/nan_feature.h5 row 8: feature column 3 of '/features' is NaN; expected a finite number \(or train with --skip-bad-rows\) \[rank 1\]" \
  2 "${t[@]}" --data "$W/nan_feature.h5"
expect_every_rank_fails inf-label-second-file \
  "dptrain: error: $W/inf_label.h5 row 9: label of '/labels' is Inf; expected a finite number" \
  3 "${t[@]}" --data "$W/good.h5,$W/inf_label.h5"
# Ranks and batches. More ranks than rows (empty shards) is allowed with --sync grad and
# trains exactly like 1 rank; local SGD needs a row per rank and says what to change.
common=("${t[@]}" --model softmax --classes 3 --epochs 2 --lr 0.5 --seed 1)
run_mpi 1 "${common[@]}" --data "$W/three_rows.h5" --batch 2 --checkpoint "$W/r1.h5" >/dev/null
expect_success_once more-ranks-than-rows "3 training rows x 4 features, 4 rank\(s\)" \
  4 "${common[@]}" --data "$W/three_rows.h5" --batch 2 --checkpoint "$W/r4.h5"
params_close "$W/r4.h5" "$W/r1.h5" 1e-6 || fail "4 ranks on 3 rows differ from 1 rank"
pass "4 ranks on 3 rows (one empty shard) train exactly like 1 rank"
run_mpi 1 "${common[@]}" --data "$W/good.h5" --batch 2 --checkpoint "$W/b1.h5" >/dev/null
expect_success_once batch-smaller-than-ranks "global batch 2, 50 steps/epoch" \
  3 "${common[@]}" --data "$W/good.h5" --batch 2 --checkpoint "$W/b3.h5"
params_close "$W/b3.h5" "$W/b1.h5" 1e-5 || fail "--batch 2 on 3 ranks differs from 1 rank"
pass "--batch 2 on 3 ranks (a rank idle in every step) trains exactly like 1 rank"
expect_every_rank_fails params-more-ranks-than-rows \
  "dptrain: error: --sync params needs at least one row per rank: 3 rows for 4 ranks; use fewer ranks or --sync grad" \
  4 "${common[@]}" --data "$W/three_rows.h5" --sync params --batch 4
expect_every_rank_fails params-batch-smaller-than-ranks \
  "dptrain: error: --sync params with --batch 2 on 3 ranks: every rank takes at least one row per local step; use --batch 3 or more, or --sync grad" \
  3 "${common[@]}" --data "$W/good.h5" --sync params --batch 2
