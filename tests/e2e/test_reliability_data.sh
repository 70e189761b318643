# Ranks agree on what they read (issue 12, class 5). Each rank of an MPMD job works in its own
# folder, so the same relative name d.h5 is a different file on each rank, as when a file is
# replaced between two ranks' opens or hosts hold different copies. Every command (train,
# eval, predict) stops before its first collective with one message naming both views, exit 1.
# Identical copies are accepted. A virtual dataset whose source file is missing is refused.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/r0" "$WORK/r1" "$WORK/same0" "$WORK/same1"
"$DPTRAIN" gen --out "$WORK/r0/d.h5" --rows 300 --features 5 --classes 3 --seed 1 >/dev/null
"$DPTRAIN" gen --out "$WORK/r1/d.h5" --rows 300 --features 5 --classes 3 --seed 2 >/dev/null  # same shape, other rows
"$DPTRAIN" gen --out "$WORK/r1/long.h5" --rows 310 --features 5 --classes 3 --seed 1 >/dev/null
cp "$WORK/r0/d.h5" "$WORK/r0/long.h5"
cp "$WORK/r0/d.h5" "$WORK/same0/d.h5"
cp "$WORK/r0/d.h5" "$WORK/same1/d.h5"
run_mpi 1 train --data "$WORK/r0/d.h5" --epochs 1 --progress off --checkpoint "$WORK/model.h5" >/dev/null

# per_rank DIR0 DIR1 ARGS... : rank 0 runs in DIR0, rank 1 in DIR1.
per_rank() {
  local d0=$1 d1=$2; shift 2
  timeout 60 "$MPIEXEC" --bind-to none -np 1 -wdir "$d0" "$DPTRAIN" "$@" : -np 1 -wdir "$d1" "$DPTRAIN" "$@"
}

# expect_disagreement NAME FILE ARGS...
expect_disagreement() {
  local name=$1 file=$2; shift 2
  local out=$WORK/$name.out code=0
  per_rank "$WORK/r0" "$WORK/r1" "$@" >"$out" 2>&1 || code=$?
  [ "$code" -eq 1 ] || { cat "$out"; fail "$name: exit $code, expected 1"; }
  local pattern="^dptrain: error: the ranks see different .*: rank 0 sees $file: .*; rank 1 sees $file: .* \[rank 1\]$"
  [ "$(grep -cE "$pattern" "$out" || true)" -eq 1 ] || { cat "$out"; fail "$name: no single agreement message"; }
  grep -q "MPI_ERR" "$out" && { cat "$out"; fail "$name: a raw MPI error"; }
  pass "$name: exit 1, $(grep -E "$pattern" "$out" | cut -c1-200)..."
}
expect_disagreement train-other-content d.h5 train --data d.h5 --epochs 1 --progress off
expect_disagreement train-other-rows long.h5 train --data long.h5 --epochs 1 --progress off
expect_disagreement train-validation d.h5 train --data "$WORK/r0/d.h5" --val d.h5 --epochs 1 --progress off
expect_disagreement eval d.h5 eval --model "$WORK/model.h5" --data d.h5
expect_disagreement predict d.h5 predict --model "$WORK/model.h5" --data d.h5 --out "$WORK/p.h5"

code=0
per_rank "$WORK/same0" "$WORK/same1" train --data d.h5 --epochs 1 --progress off >"$WORK/same.out" 2>&1 || code=$?
[ "$code" -eq 0 ] || { cat "$WORK/same.out"; fail "identical copies on two ranks were refused"; }
pass "identical copies of the data in each rank's folder are accepted"

# A virtual dataset over two source files; with one source gone HDF5 would read zeros.
py "
import h5py, numpy as np
w = '$WORK'
for i in range(2):
    with h5py.File(f'{w}/src{i}.h5', 'w') as f:
        f['x'] = np.random.default_rng(i).normal(size=(50, 5)).astype(np.float32)
        f['y'] = np.arange(50, dtype=np.int64) % 3
with h5py.File(f'{w}/vds.h5', 'w') as f:
    for name, shape, dtype in (('features', (100, 5), np.float32), ('labels', (100,), np.int64)):
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        for i in range(2):
            layout[i * 50:(i + 1) * 50] = h5py.VirtualSource(f'src{i}.h5', 'x' if name == 'features' else 'y',
                                                              shape=(50, 5) if name == 'features' else (50,))
        f.create_virtual_dataset(name, layout, fillvalue=0)
"
run_mpi 2 train --data "$WORK/vds.h5" --epochs 1 --progress off >"$WORK/vds.log" 2>&1 ||
  { cat "$WORK/vds.log"; fail "a complete virtual dataset did not train"; }
grep -q "100 training rows" "$WORK/vds.log" || { cat "$WORK/vds.log"; fail "virtual dataset: not 100 rows"; }
pass "a virtual dataset with its sources present trains (100 rows)"
mv "$WORK/src1.h5" "$WORK/src1.moved"
EXPECT_CODE=1 expect_failure "vds-missing-source" \
  "^dptrain: error: $WORK/vds.h5: dataset '/features' is a virtual dataset whose source file 'src1.h5' does not exist" \
  2 train --data "$WORK/vds.h5" --epochs 1 --progress off
inspect_out=$("$DPTRAIN" inspect "$WORK/vds.h5" 2>&1 || true)
grep -q "source file 'src1.h5' does not exist" <<<"$inspect_out" || { echo "$inspect_out"; fail "inspect does not report the missing source"; }
pass "inspect reports the missing virtual source"
