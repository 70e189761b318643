# --val-fraction holds out the same rows for any rank count and evaluates each exactly once;
# --skip-bad-rows drops NaN/Inf rows and invalid class ids, counted, without breaking the
# rank-count independence (also across an interrupted and resumed run); a class seen only in
# validation is warned about once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 1001 --features 13 --classes 4 --noise 0.5 --seed 7
vf=(train --data "$WORK/d.h5" --model softmax --epochs 3 --batch 64 --lr 0.5 --seed 3 --progress off
    --val-fraction 0.2)
for np in 1 2 3 4; do
  run_mpi "$np" "${vf[@]}" --checkpoint "$WORK/vf$np.h5" --metrics "$WORK/vf$np.jsonl" >"$WORK/vf$np.log"
done
grep -q "801 training rows (+200 held out) x 13 features" "$WORK/vf1.log" || { cat "$WORK/vf1.log"; fail "no split line"; }
for np in 2 3 4; do
  params_close "$WORK/vf$np.h5" "$WORK/vf1.h5" 1e-5 || fail "--val-fraction: p=$np differs from p=1"
  "$PYTHON" - "$WORK/vf$np.jsonl" "$WORK/vf1.jsonl" <<'PY' || fail "--val-fraction: p=$np validation differs"
import sys, json
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
for x, y in zip(a, b):
    assert abs(x["val_loss"] - y["val_loss"]) <= 1e-5 * abs(y["val_loss"]), (x, y)
    assert x["val_accuracy"] == y["val_accuracy"], (x, y)
PY
  pass "--val-fraction 0.2 on $np ranks: same model and same validation numbers as 1 rank"
done
# The held-out rows are the last 200 positions of the seed's epoch-0 order, and the reported
# validation loss is the mean over exactly those rows (recomputed here from the saved model).
"$PYTHON" - "$WORK/d.h5" "$WORK/vf4.h5" "$WORK/vf4.jsonl" <<'PY' || fail "validation loss is not the mean over the held-out rows"
import sys, json, h5py, numpy as np
M = (1 << 64) - 1
def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)
class GlobalPermutation:  # src/data/shard.cpp, line by line
    def __init__(self, n, seed, epoch):
        bits = 2
        while bits < 64 and (1 << bits) < n: bits += 1
        bits += bits % 2
        self.h, self.n = bits // 2, n
        self.mask = (1 << self.h) - 1
        state = ((seed * 0x9E3779B97F4A7C15) & M) ^ (((epoch + 1) * 0xD1B54A32D192ED03) & M)
        self.keys = []
        for _ in range(4):
            state, k = splitmix(state)
            self.keys.append(k)
    def encrypt(self, x):
        left, right = x >> self.h, x & self.mask
        for k in self.keys:
            left, right = right, left ^ (splitmix(right ^ k)[1] & self.mask)
        return (left << self.h) | right
    def __call__(self, pos):
        x = self.encrypt(pos)
        while x >= self.n: x = self.encrypt(x)
        return x
n, held = 1001, 200
perm = GlobalPermutation(n, 3, 0)
rows = sorted(perm(p) for p in range(n - held, n))
assert len(set(rows)) == held
f = h5py.File(sys.argv[1], "r")
X = f["features"][...].astype(np.float64)[rows]
y = f["labels"][...][rows]
params = h5py.File(sys.argv[2], "r")["params"][...].astype(np.float64)
k, d = 4, 13
W = params[: k * d].reshape(d, k).T  # column-major [k x d]
b = params[k * d : k * d + k]
z = X @ W.T + b
z -= z.max(axis=1, keepdims=True)
logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
loss = -logp[np.arange(held), y].mean()
acc = (z.argmax(axis=1) == y).mean()
last = [json.loads(l) for l in open(sys.argv[3])][-1]
print(f"recomputed val_loss {loss:.6f} val_acc {acc:.4f}; reported {last['val_loss']:.6f} {last['val_accuracy']:.4f}")
assert abs(loss - last["val_loss"]) <= 1e-4 * loss and abs(acc - last["val_accuracy"]) < 1e-9
PY
pass "4 ranks evaluated exactly the 200 held-out rows: loss and accuracy recomputed from the model agree"

# --skip-bad-rows. Rows 10 (NaN feature), 305 (Inf feature), 450 (Inf label), 200 (label 7
# with --classes 4), 201 (label -1) and 202 (label 1.5) are bad.
"$PYTHON" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(f"{w}/d.h5", "r") as f:
    X = f["features"][:600].astype(np.float32)
    y = f["labels"][:600].astype(np.float32)
X[10, 2] = np.nan; X[305, 0] = np.inf; y[450] = np.inf
y[200] = 7; y[201] = -1; y[202] = 1.5
with h5py.File(f"{w}/bad.h5", "w") as f:
    f["features"] = X
    f["labels"] = y
with h5py.File(f"{w}/badval.h5", "w") as f:
    f["features"] = X[:100]
    f["labels"] = y[:100]
PY
sk=(train --data "$WORK/bad.h5" --model softmax --classes 4 --epochs 2 --batch 50 --lr 0.5 --seed 8 --progress off)
expect_every_rank_fails no-skip \
  "dptrain: error: $WORK/bad.h5 row 10: feature column 2 of '/features' is NaN; expected a finite number \(or train with --skip-bad-rows\)" \
  2 "${sk[@]}"
for np in 1 2 3; do
  run_mpi "$np" "${sk[@]}" --skip-bad-rows --checkpoint "$WORK/sk$np.h5" >"$WORK/sk$np.log" 2>&1 \
    || { cat "$WORK/sk$np.log"; fail "--skip-bad-rows on $np ranks failed"; }
  grep -q "dptrain: --skip-bad-rows dropped 6 of 600 rows (3 with NaN/Inf, 3 with an invalid label); first: $WORK/bad.h5 row 10: feature column 2 of '/features' is NaN" "$WORK/sk$np.log" \
    || { cat "$WORK/sk$np.log"; fail "--skip-bad-rows on $np ranks: no drop report"; }
  [ "$(grep -c 'dropped 6' "$WORK/sk$np.log")" -eq 1 ] || fail "drop report printed more than once"
  grep -q "594 training rows x 13 features" "$WORK/sk$np.log" || fail "training row count"
done
for np in 2 3; do
  params_close "$WORK/sk$np.h5" "$WORK/sk1.h5" 1e-5 || fail "--skip-bad-rows: p=$np differs from p=1"
  pass "--skip-bad-rows: 6 rows dropped, reported once; p=$np trains like p=1"
done
# With --val-fraction: the dropped rows leave both sets; still the same for any rank count.
for np in 1 3; do
  run_mpi "$np" "${sk[@]}" --skip-bad-rows --val-fraction 0.25 --checkpoint "$WORK/skv$np.h5" \
    --metrics "$WORK/skv$np.jsonl" >"$WORK/skv$np.log"
done
params_close "$WORK/skv3.h5" "$WORK/skv1.h5" 1e-5 || fail "--skip-bad-rows --val-fraction: p=3 differs"
[ "$(metric "$WORK/skv3.jsonl" val_accuracy)" = "$(metric "$WORK/skv1.jsonl" val_accuracy)" ] || fail "val accuracy differs"
pass "--skip-bad-rows with --val-fraction 0.25: p=3 matches p=1 ($(grep -o '[0-9]* training rows (+[0-9]* held out)' "$WORK/skv1.log"))"
# Bad rows of a --val file are dropped too, and counted.
expect_success_once skip-val-file "dptrain: --skip-bad-rows dropped 1 validation row\(s\)" \
  2 "${sk[@]}" --skip-bad-rows --val "$WORK/badval.h5"

# An interrupted run with held-out and dropped rows resumes on another rank count, bitwise equal.
rs=("${sk[@]}" --skip-bad-rows --val-fraction 0.1 --deterministic --epochs 3)
run_mpi 1 "${rs[@]}" --checkpoint "$WORK/rs-ref.h5" >/dev/null
code=0
DPTRAIN_FAULT="rank=1,step=14,kind=sigterm" run_mpi 2 "${rs[@]}" --checkpoint-dir "$WORK/ck" \
  --checkpoint-every 5steps >"$WORK/rs-stop.log" 2>&1 || code=$?
[ "$code" -eq 75 ] || { cat "$WORK/rs-stop.log"; fail "stop: exit $code, expected 75"; }
run_mpi 3 "${rs[@]}" --checkpoint-dir "$WORK/ck" --resume auto --checkpoint "$WORK/rs-res.h5" >"$WORK/rs-res.log"
grep -qE "resumed from .* at epoch 2, step [1-9]" "$WORK/rs-res.log" || { cat "$WORK/rs-res.log"; fail "did not resume mid-epoch"; }
params_close "$WORK/rs-res.h5" "$WORK/rs-ref.h5" 0 || fail "interrupted on 2 + resumed on 3 differs from 1 rank"
pass "held-out + dropped rows: interrupted on 2 ranks mid-epoch, resumed on 3, bitwise equal to 1 rank"

# A class present in validation but not in training: one warning, and training goes on.
py "
import h5py, numpy as np
f = h5py.File('$WORK/d.h5', 'r'); X = f['features'][...]; y = f['labels'][...]
keep = y != 3
with h5py.File('$WORK/train3.h5', 'w') as g: g['features'] = X[keep]; g['labels'] = y[keep]
with h5py.File('$WORK/val4.h5', 'w') as g: g['features'] = X[:200]; g['labels'] = y[:200]
print('validation rows of class 3:', int((y[:200] == 3).sum()))
" >"$WORK/class3.txt"
n3=$(grep -o '[0-9]*$' "$WORK/class3.txt")
expect_success_once class-only-in-validation \
  "dptrain: warning: class 3 appears in the validation data \($n3 rows\) but not in the training data" \
  2 train --data "$WORK/train3.h5" --val "$WORK/val4.h5" --model softmax --epochs 1 --progress off

# Option errors.
expect_every_rank_fails val-fraction-range "dptrain: error: --val-fraction must be in \[0, 1\)" \
  2 train --data "$WORK/d.h5" --val-fraction 1.5 --progress off
expect_every_rank_fails val-and-fraction "dptrain: error: --val and --val-fraction both given; use one" \
  2 train --data "$WORK/d.h5" --val "$WORK/d.h5" --val-fraction 0.1 --progress off
expect_every_rank_fails val-fraction-empty \
  "dptrain: error: --val-fraction 0.0005 of 1001 rows selects no validation row; raise it" \
  2 train --data "$WORK/d.h5" --val-fraction 0.0005 --progress off
