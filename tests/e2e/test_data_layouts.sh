# Files written by h5py in the layouts real users have train exactly like the plain layout:
# float32/float64/big-endian/integer features, int8..int64, uint8 and float labels,
# contiguous, chunked, gzip+shuffle and fletcher32 datasets, datasets inside groups, and
# several files (comma list and glob) where a rank's block spans files. Each trains on 2 or
# 3 ranks and must match the plain float32/int64 contiguous file trained on 1 rank.
source "$(dirname "$0")/lib.sh"
"$PYTHON" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
rng = np.random.default_rng(4)
n, d, k = 503, 6, 3
W = rng.normal(size=(d, k))
X = rng.normal(size=(n, d)).astype(np.float32)
y = np.argmax(X @ W + 0.3 * rng.normal(size=(n, k)), axis=1)
T = (X @ rng.normal(size=(d, 2))).astype(np.float32)  # regression targets [n, 2]

def save(name, features, labels, xname="features", yname="labels", extra=None, x=None, y=None):
    with h5py.File(f"{w}/{name}", "w") as f:
        f.create_dataset(xname, data=features, **(x or {}))
        f.create_dataset(yname, data=labels, **(y or {}))
        for key, value in (extra or {}).items():
            f[key] = value

save("ref.h5", X, y.astype(np.int64))
save("f64_i8_chunked.h5", X.astype(np.float64), y.astype(np.int8),
     x=dict(chunks=(64, d)), y=dict(chunks=(64,)))
save("f32_i16_gzip_shuffle.h5", X, y.astype(np.int16),
     x=dict(chunks=(100, d), compression="gzip", compression_opts=6, shuffle=True),
     y=dict(chunks=(100,), compression="gzip", shuffle=True))
save("groups.h5", X.astype(np.float64), y.astype(np.int32), xname="train/X", yname="train/y",
     extra={"test/X": X[:5], "meta/names": np.array([b"a", b"b"])},
     x=dict(chunks=True, compression="gzip", compression_opts=1))
save("bigendian_u8_fletcher.h5", X.astype(">f4"), y.astype(np.uint8),
     x=dict(chunks=(50, d), fletcher32=True), y=dict(chunks=(50,), fletcher32=True))
save("labels_f64.h5", X, y.astype(np.float64))
save("labels_f32_x_f64.h5", X.astype(np.float64), y.astype(np.float32))
# Integer features (e.g. quantised pixels) and their float32 twin.
Q = np.round(X * 100).astype(np.int16)
save("int_features.h5", Q, y.astype(np.int64), x=dict(chunks=(128, d)))
save("int_features_ref.h5", Q.astype(np.float32), y.astype(np.int64))
# Regression targets [n, 2]: float64 chunked+gzip against float32 contiguous.
save("reg_ref.h5", X, T)
save("reg_f64_gzip.h5", X.astype(np.float64), T.astype(np.float64),
     x=dict(chunks=(77, d), compression="gzip"), y=dict(chunks=(77, 2), compression="gzip"))
# Three files of 100, 250 and 153 rows, each in another layout; together they are ref.h5.
save("part-0.h5", X[:100], y[:100].astype(np.int64))
save("part-1.h5", X[100:350].astype(np.float64), y[100:350].astype(np.int32),
     x=dict(chunks=(30, d), compression="gzip", shuffle=True), y=dict(chunks=(30,), compression="gzip"))
save("part-2.h5", X[350:], y[350:].astype(np.int8), x=dict(chunks=(16, d)))
PY
cls=(--model softmax --epochs 3 --batch 32 --lr 0.3 --seed 9 --progress off)
run_mpi 1 train --data "$WORK/ref.h5" "${cls[@]}" --checkpoint "$WORK/ref-model.h5" \
  --metrics "$WORK/ref.jsonl" >/dev/null
at_least "$(metric "$WORK/ref.jsonl" train_accuracy)" 0.85 "softmax on the reference file learns"

same_as_ref() {  # NAME NP REFERENCE-MODEL TRAIN-ARGS...
  local name=$1 np=$2 ref=$3; shift 3
  run_mpi "$np" train "$@" --checkpoint "$WORK/$name-model.h5" >/dev/null \
    || fail "$name: training failed on $np ranks"
  params_close "$WORK/$name-model.h5" "$ref" 1e-5 || fail "$name on $np ranks differs from the reference"
  pass "$name on $np ranks trains like the reference"
}
for f in f64_i8_chunked f32_i16_gzip_shuffle bigendian_u8_fletcher labels_f64 labels_f32_x_f64; do
  same_as_ref "$f" 2 "$WORK/ref-model.h5" --data "$WORK/$f.h5" "${cls[@]}"
done
same_as_ref groups 3 "$WORK/ref-model.h5" --data "$WORK/groups.h5" \
  --features-name /train/X --labels-name /train/y "${cls[@]}"
# Several files: rank 0's block spans part-0 and part-1 (2 ranks: rows 0-251; 3 ranks: 0-167),
# and with 3 ranks rank 1's block (168-335) lies inside part-1 while rank 2's spans part-1 and part-2.
same_as_ref files-list 2 "$WORK/ref-model.h5" \
  --data "$WORK/part-0.h5,$WORK/part-1.h5,$WORK/part-2.h5" "${cls[@]}"
same_as_ref files-glob 3 "$WORK/ref-model.h5" --data "$WORK/part-*.h5" "${cls[@]}"

# Features of +-300 make sums order-sensitive beyond 1e-5: compare at the same rank count.
run_mpi 2 train --data "$WORK/int_features_ref.h5" "${cls[@]}" --lr 0.003 \
  --checkpoint "$WORK/int-ref-model.h5" >/dev/null
same_as_ref int_features 2 "$WORK/int-ref-model.h5" --data "$WORK/int_features.h5" "${cls[@]}" --lr 0.003

reg=(--model linear --epochs 3 --batch 50 --lr 0.05 --seed 2 --progress off)
run_mpi 1 train --data "$WORK/reg_ref.h5" "${reg[@]}" --checkpoint "$WORK/reg-ref-model.h5" >/dev/null
same_as_ref reg_f64_gzip 2 "$WORK/reg-ref-model.h5" --data "$WORK/reg_f64_gzip.h5" "${reg[@]}"
