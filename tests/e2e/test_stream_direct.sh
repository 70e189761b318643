# Streaming reads unfiltered float32 chunks with H5Dread_chunk and contiguous data with pread
# (src/io/hdf5_direct.cpp), and everything else through H5Dread: the same data stored
# chunked, gzip-compressed, as float64, contiguous, or contiguous behind a 512-byte user
# block trains bitwise the same model (--deterministic), and equals the in-memory run, which
# reads through H5Dread. A streamed run without validation data reads nothing to validate.
source "$(dirname "$0")/lib.sh"
# 200 float32 columns in 32-row chunks, int64 labels in 32-row chunks; 4001 rows (a partial last chunk).
"$DPTRAIN" gen --out "$WORK/chunked.h5" --rows 4001 --features 200 --classes 4 --noise 0.5 --seed 7 --chunk-rows 32
py "
import h5py, numpy as np
with h5py.File('$WORK/chunked.h5', 'r') as f:
    x, y = f['features'][...], f['labels'][...]
    assert f['features'].chunks == (32, 200) and f['labels'].chunks == (32,) and f['features'].compression is None
with h5py.File('$WORK/gzip.h5', 'w') as g:
    g.create_dataset('features', data=x, chunks=(32, 200), compression='gzip', shuffle=True)
    g.create_dataset('labels', data=y, chunks=(32,), compression='gzip')
with h5py.File('$WORK/float64.h5', 'w') as g:
    g.create_dataset('features', data=x.astype(np.float64), chunks=(32, 200))
    g.create_dataset('labels', data=y, chunks=(32,))
for name, kw in (('contiguous.h5', {}), ('userblock.h5', {'userblock_size': 512})):
    with h5py.File('$WORK/' + name, 'w', **kw) as g:
        g.create_dataset('features', data=x)
        g.create_dataset('labels', data=y.astype(np.int32))
"
common=(train --model mlp:16 --epochs 2 --batch 64 --lr 0.1 --seed 3 --progress off --shuffle-window 4 --deterministic)
# 32-row chunks: the three chunked files share one block layout.
run_mpi 1 "${common[@]}" --data "$WORK/chunked.h5" --order block --stream off --checkpoint "$WORK/ref.h5" >/dev/null
for f in chunked gzip float64; do
  out=$(run_mpi 2 "${common[@]}" --data "$WORK/$f.h5" --stream on --checkpoint "$WORK/s-$f.h5" --metrics "$WORK/s-$f.jsonl")
  grep -q "streaming --data from disk" <<<"$out" || { echo "$out"; fail "$f.h5 did not stream"; }
  params_close "$WORK/s-$f.h5" "$WORK/ref.h5" 0 || fail "streamed $f.h5 is not bitwise the in-memory run"
  pass "streamed $f.h5 (2 ranks) is bitwise the in-memory 1x1 run"
done
# Contiguous files: blocks of aligned rows; the user block shifts the data 512 bytes into the file.
run_mpi 1 "${common[@]}" --data "$WORK/contiguous.h5" --order block --stream off --checkpoint "$WORK/cref.h5" >/dev/null
for f in contiguous userblock; do
  run_mpi 2 "${common[@]}" --data "$WORK/$f.h5" --stream on --checkpoint "$WORK/s-$f.h5" >/dev/null
  params_close "$WORK/s-$f.h5" "$WORK/cref.h5" 0 || fail "streamed $f.h5 is not bitwise the in-memory run"
  pass "streamed $f.h5 (2 ranks) is bitwise the in-memory 1x1 run"
done
# No --val and no --val-fraction: nothing is validated, so no epoch reads the data a second time.
[ "$(metric "$WORK/s-chunked.jsonl" val_s)" = 0 ] && [ "$(metric "$WORK/s-chunked.jsonl" val_loss)" = None ] ||
  fail "a streamed run without validation data validated: val_s $(metric "$WORK/s-chunked.jsonl" val_s)"
pass "a streamed run without validation data spends no time validating"
