# CSR data end to end: an h5py/anndata-style group (int32 indices, float64 values) read by rank
# slices; inspect; convert --from libsvm --layout; sparse softmax with AdaGrad equal to the dense
# run and across p (2 in float; 1..4 bitwise with --deterministic, for the sparse and the dense exchange);
# bytes exchanged in the metrics; eval and predict on CSR; clear errors.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$PYTHON" "$SOURCE_DIR/tests/e2e/sparse_data.py" c.h5 d.h5 1001 3000 4 3
CSR=(--data c.h5 --features-name X --labels-name y)

out=$("$DPTRAIN" inspect c.h5 --features-name X --labels-name y)
grep -q "features 'X': CSR group, 1001 rows x 3000 columns, .* indices int32, values float64" <<<"$out" ||
  { echo "$out"; fail "inspect does not describe the CSR group"; }
pass "inspect: $(grep "CSR group" <<<"$out" | cut -c1-110)"

# The same rows, CSR and dense: the same model.
common=(--model softmax --optimizer adagrad --lr 0.3 --epochs 3 --batch 64 --progress off)
run_mpi 1 train "${CSR[@]}" "${common[@]}" --checkpoint s1.h5 --metrics m1.jsonl >s1.log 2>&1
! grep -q "update split" s1.log || fail "1 rank: the run's header says the update is split"
run_mpi 1 train --data d.h5 "${common[@]}" --checkpoint dense.h5 >/dev/null
params_close s1.h5 dense.h5 1e-5 || fail "CSR and dense training differ"
pass "CSR training equals dense training"
for np in 2 4; do
  run_mpi "$np" train "${CSR[@]}" "${common[@]}" --checkpoint s$np.h5 --metrics m$np.jsonl >s$np.log 2>&1
  grep -q "optimizer adagrad, lr 0.3, update split by input column over the ranks$" s$np.log ||
    { cat s$np.log; fail "p=$np: the run's header does not say the update is split by column"; }
  params_close s$np.h5 s1.h5 1e-5 || fail "p=$np differs from p=1"
  pass "sparse softmax + adagrad p=$np equals p=1 (float rounding)"
done
# 2+ ranks shard the update by input column (--shard-update auto); off updates all columns everywhere.
run_mpi 2 train "${CSR[@]}" "${common[@]}" --shard-update off --checkpoint o2.h5 >/dev/null 2>&1
params_close o2.h5 s2.h5 1e-6 || fail "--shard-update off differs from the column-sharded update"
pass "p=2: the column-sharded update gives the unsharded update's parameters"
run_mpi 1 train "${CSR[@]}" "${common[@]}" --clip-norm 0.05 --checkpoint c1.h5 >/dev/null
run_mpi 3 train "${CSR[@]}" "${common[@]}" --clip-norm 0.05 --checkpoint c3.h5 >/dev/null 2>&1
params_close c3.h5 c1.h5 1e-5 || fail "p=3 column-sharded with --clip-norm differs from p=1"
params_close c3.h5 s1.h5 1e-3 && fail "--clip-norm 0.05 changed nothing: the test does not test clipping"
pass "p=3 column-sharded with --clip-norm (the global norm) equals p=1"
# A failure or a NaN on one rank stops every rank alike under the column-sharded update, for
# both reductions (the dense one keeps a part of the whole sums).
for ex in sparse dense; do
  DPTRAIN_FAULT="rank=1,step=5,kind=throw" expect_failure "sharded-throw-$ex" \
    "^dptrain: error: injected fault \(DPTRAIN_FAULT\) on rank 1 at step 5 \[rank 1\]$" 2 \
    train "${CSR[@]}" "${common[@]}" --sparse-exchange $ex
  DPTRAIN_FAULT="rank=1,step=5,kind=nan" expect_failure "sharded-nan-$ex" \
    "dptrain: error: training diverged: non-finite loss or gradient at epoch 1, step 5 \(global step 5\)" 3 \
    train "${CSR[@]}" "${common[@]}" --sparse-exchange $ex
done

# Momentum moves every column each step: not sharded by column (auto), refused with on.
mom=(--optimizer momentum --lr 0.05)
run_mpi 1 train "${CSR[@]}" "${common[@]}" "${mom[@]}" --checkpoint m1.h5 >/dev/null
run_mpi 2 train "${CSR[@]}" "${common[@]}" "${mom[@]}" --checkpoint mm2.h5 >/dev/null 2>&1
params_close mm2.h5 m1.h5 1e-5 || fail "CSR momentum p=2 differs from p=1"
pass "CSR momentum p=2 equals p=1 (auto does not shard it)"
expect_failure shard_momentum "--shard-update on with CSR features needs --optimizer adagrad or sgd" 2 \
  train "${CSR[@]}" "${mom[@]}" --shard-update on --epochs 1
run_mpi 2 train "${CSR[@]}" "${common[@]}" --sparse-exchange dense --checkpoint x2.h5 >/dev/null 2>&1
params_close x2.h5 s2.h5 1e-6 || fail "the dense exchange differs from the sparse one"
pass "p=2: the dense exchange gives the sparse exchange's parameters"
run_mpi 1 train "${CSR[@]}" "${common[@]}" --deterministic --checkpoint f1.h5 >/dev/null
for run in "2 1 sparse" "3 2 dense" "4 1 auto"; do
  set -- $run
  run_mpi "$1" train "${CSR[@]}" "${common[@]}" --deterministic --threads "$2" --sparse-exchange "$3" \
    --checkpoint f$1$2$3.h5 >/dev/null 2>&1
  params_close f$1$2$3.h5 f1.h5 0 || fail "--deterministic p=$1 t=$2 --sparse-exchange $3 not bitwise equal"
  pass "--deterministic p=$1 t=$2 --sparse-exchange $3 bitwise equal to p=1"
done

# --l1 (AdaGrad's soft-threshold): bitwise across (p, t) with --deterministic, and sharded
# by column on 2 ranks equal to 1 rank.
l1=(--l1 2e-3)
run_mpi 1 train "${CSR[@]}" "${common[@]}" "${l1[@]}" --deterministic --checkpoint l1d1.h5 >/dev/null
run_mpi 3 train "${CSR[@]}" "${common[@]}" "${l1[@]}" --deterministic --threads 2 --checkpoint l1d3.h5 >/dev/null 2>&1
params_close l1d3.h5 l1d1.h5 0 || fail "--l1 --deterministic p=3 t=2 not bitwise equal to p=1"
params_close l1d1.h5 f1.h5 1e-3 && fail "--l1 2e-3 changed nothing: the test does not test it"
py "import h5py, numpy as np; p = h5py.File('l1d1.h5')['params'][...]; assert (p == 0).mean() > 0.2, (p == 0).mean()" ||
  fail "--l1 left fewer than a fifth of the weights at exactly zero"
run_mpi 2 train "${CSR[@]}" "${common[@]}" "${l1[@]}" --checkpoint l1s2.h5 >/dev/null 2>&1
params_close l1s2.h5 l1d1.h5 1e-5 || fail "--l1 column-sharded p=2 differs from p=1"
pass "--l1: bitwise p=3 t=2 with --deterministic, p=2 sharded equal to p=1, weights at exactly zero"

# Metrics: a step touches a few hundred of the 3000 columns, so auto takes the sparse exchange.
bytes=$(metric m2.jsonl exchange_bytes_per_step)
dense=$(metric m2.jsonl dense_exchange_bytes_per_step)
steps=$(metric m2.jsonl sparse_exchange_steps)
"$PYTHON" -c "import sys; sys.exit(0 if 0 < $bytes < $dense / 2 and $steps == 16 else 1)" ||
  fail "exchange bytes $bytes vs dense $dense, sparse steps $steps (expected 16)"
pass "metrics: $bytes bytes per step exchanged vs $dense for the dense allreduce"

# eval and predict on CSR: the dense file's numbers.
acc_csr=$(run_mpi 2 eval --model s1.h5 "${CSR[@]}" --json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['accuracy'])")
acc_dense=$(run_mpi 1 eval --model s1.h5 --data d.h5 --json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['accuracy'])")
[ "$acc_csr" = "$acc_dense" ] || fail "eval accuracy on CSR $acc_csr != dense $acc_dense"
at_least "$acc_csr" 0.9 "eval accuracy on CSR"
run_mpi 3 predict --model s1.h5 --data c.h5 --features-name X --out pc.h5 >/dev/null
run_mpi 1 predict --model s1.h5 --data d.h5 --out pd.h5 >/dev/null
py "
import h5py, numpy as np
a = h5py.File('pc.h5')['probabilities'][...]; b = h5py.File('pd.h5')['probabilities'][...]
assert a.shape == (1001, 4) and np.abs(a - b).max() < 1e-5, np.abs(a - b).max()
" || fail "predict on CSR differs from dense"
pass "predict on CSR (3 ranks) equals dense"

# LIBSVM -> CSR (auto: 0.2% dense) -> the same training as the h5py file.
py "
import h5py
f = h5py.File('c.h5'); X = f['X']; p, i, v, y = X['indptr'][...], X['indices'][...], X['data'][...], f['y'][...]
with open('c.svm', 'w') as out:
    for r in range(len(y)):
        out.write(str(y[r]) + ''.join(f' {i[k] + 1}:{v[k]:.9g}' for k in range(p[r], p[r + 1])) + '\n')
"
out=$("$DPTRAIN" convert --from libsvm -i c.svm -o l.h5 --features 3000)
grep -q "CSR" <<<"$out" || fail "convert --layout auto did not write CSR: $out"
run_mpi 2 train --data l.h5 "${common[@]}" --checkpoint l2.h5 >/dev/null 2>&1
params_close l2.h5 s1.h5 1e-5 || fail "converted LIBSVM trains differently"
pass "convert --from libsvm (auto -> CSR) trains as the h5py file"
"$DPTRAIN" convert --from libsvm -i c.svm -o ld.h5 --features 3000 --layout dense >/dev/null
py "import h5py; assert h5py.File('ld.h5')['features'].shape == (1001, 3000)" || fail "--layout dense"
pass "convert --layout dense writes [1001, 3000]"
expect_failure dense_too_big "a dense layout of 1001 x 1000000000000 float32 values takes 4.0 PB" 1 \
  convert --from libsvm -i c.svm -o big.h5 --features 1000000000000 --layout dense
[ ! -e big.h5 ] || fail "a refused conversion left big.h5"

# Errors name the group and what was expected.
py "
import h5py
with h5py.File('bad.h5', 'w') as f:
    g = f.create_group('X'); g.attrs['encoding-type'] = 'csr_matrix'; g.attrs['shape'] = [2, 5]
    g['data'] = [1.0, 2.0]; g['indices'] = [1, 7]; g['indptr'] = [0, 1, 2]; f['y'] = [0, 1]
"
expect_failure bad_column "bad.h5: CSR group 'X' row 1: column index 7 is outside \[0, 5\)" 2 \
  train --data bad.h5 --features-name X --labels-name y --epochs 1
expect_failure sync_params "--sync params is not supported with CSR" 2 train "${CSR[@]}" --sync params --epochs 1
