# No silent surprises: predict refuses an output name it would silently write as HDF5
# (p.parquet); an output file option given twice is an error while a repeated hyperparameter
# still takes its last value (scripts append overrides).
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 200 --features 4 --classes 3 --seed 1 >/dev/null
run_mpi 1 train --data "$WORK/d.h5" --epochs 1 --progress off --lr 5 --lr 0.2 --metrics "$WORK/m.jsonl" \
  --checkpoint "$WORK/m.h5" >/dev/null
[ "$(metric "$WORK/m.jsonl" lr)" = 0.2 ] || fail "--lr 5 --lr 0.2: lr $(metric "$WORK/m.jsonl" lr), expected the last value"
pass "repeated --lr: the last value wins"
expect_failure metrics_twice "--metrics given 2 times; a run writes one such file" 2 \
  train --data "$WORK/d.h5" --metrics "$WORK/a.jsonl" --metrics "$WORK/b.jsonl"
expect_failure checkpoint_twice "--checkpoint given 2 times" 1 \
  train --data "$WORK/d.h5" --checkpoint "$WORK/a.h5" --checkpoint "$WORK/b.h5"
[ ! -e "$WORK/a.jsonl" ] && [ ! -e "$WORK/b.jsonl" ] || fail "a refused run wrote a metrics file"
expect_failure parquet "--out '.*p.parquet': predict writes HDF5 \\(.h5, .hdf5\\) or CSV \\(.csv\\), not '.parquet'" 2 \
  predict --model "$WORK/m.h5" --data "$WORK/d.h5" --out "$WORK/p.parquet"
[ ! -e "$WORK/p.parquet" ] || fail "predict wrote p.parquet"
run_mpi 1 predict --model "$WORK/m.h5" --data "$WORK/d.h5" --out "$WORK/p.parquet" --out-format h5 >/dev/null
py "import h5py; assert h5py.File('$WORK/p.parquet')['probabilities'].shape == (200, 3)"
run_mpi 1 predict --model "$WORK/m.h5" --data "$WORK/d.h5" --out "$WORK/plain" >/dev/null
py "import h5py; assert h5py.File('$WORK/plain')['predictions'].shape == (200,)"
pass "--out-format h5 still writes any name; no extension means HDF5"
# The layout report's local batch counts the training rows only (--val-fraction holds half out).
run_mpi 2 train --data "$WORK/d.h5" --epochs 1 --batch 50 --val-fraction 0.5 --progress off >"$WORK/layout.txt"
grep -q "run layout: 2 rank(s) on 1 host(s), 1 thread(s) per rank, global batch 50, local batch ~25 rows" "$WORK/layout.txt" &&
  [ "$(grep -c "shard rows \[.*(100), local batch ~25" "$WORK/layout.txt")" -eq 2 ] ||
  { cat "$WORK/layout.txt" >&2; fail "layout report with --val-fraction: wrong local batch"; }
pass "layout report with --val-fraction 0.5: local batch ~25 of 50 per rank"
