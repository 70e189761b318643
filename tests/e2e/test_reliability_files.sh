# Checkpoint files (issue 12, classes 1 and 4), end to end on 2 ranks: a checkpoint whose
# datasets have the right first dimension but extra dimensions, the wrong type or length is
# refused by train --resume, eval and predict with one clear message (never a crash); a
# user's backup named ckpt-e*.h5 and a killed writer's temporary file do not break saving or
# --resume auto; editing any run-defining attribute (seed, config) fails the checksum.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 400 --features 6 --classes 3 --seed 2 >/dev/null
args=(train --data "$WORK/d.h5" --model mlp:5 --optimizer adam --epochs 2 --batch 40 --progress off)
run_mpi 2 "${args[@]}" --checkpoint "$WORK/model.h5" --checkpoint-dir "$WORK/ck" >/dev/null
n=$(py "import h5py; print(h5py.File('$WORK/model.h5', 'r')['params'].shape[0])")

# damaged SOURCE DEST EXPR : a copy of SOURCE whose dataset is rewritten by EXPR (python; f is the file).
damaged() {
  cp "$1" "$2"
  py "
import h5py, numpy as np
f = h5py.File('$2', 'r+')
$3
"
}
damaged "$WORK/model.h5" "$WORK/dims.h5" "
p = f['params'][...]; del f['params']; f['params'] = np.repeat(p[:, None], 8, axis=1)"
damaged "$WORK/model.h5" "$WORK/int.h5" "
p = f['params'][...]; del f['params']; f['params'] = p.astype(np.int64)"
ck=$(ls "$WORK/ck" | sort | tail -1)
damaged "$WORK/ck/$ck" "$WORK/opt.h5" "
m = f['optimizer/m'][...]; del f['optimizer/m']; f['optimizer/m'] = np.stack([m, m], axis=1)"

for cmd in resume eval predict; do
  case $cmd in
    resume) run=("${args[@]}" --resume) ;;
    eval) run=(eval --data "$WORK/d.h5" --model) ;;
    predict) run=(predict --data "$WORK/d.h5" --out "$WORK/p.h5" --model) ;;
  esac
  EXPECT_CODE=1 expect_failure "extra-dims-$cmd" \
    "^dptrain: error: .*$WORK/dims.h5: dataset '/params' is float32 \[$n, 8\]; expected float \[$n\]" 2 "${run[@]}" "$WORK/dims.h5"
  EXPECT_CODE=1 expect_failure "int-params-$cmd" "^dptrain: error: .*$WORK/int.h5: dataset '/params' is int64 \[$n\]; expected float" \
    2 "${run[@]}" "$WORK/int.h5"
done
EXPECT_CODE=1 expect_failure "optimizer-dims" "^dptrain: error: .*$WORK/opt.h5: dataset '/optimizer/m' is float32 \[$n, 2\]" \
  2 "${args[@]}" --resume "$WORK/opt.h5"
code=0
run_mpi 2 "${args[@]}" --resume "$WORK/dims.h5" >/dev/null 2>&1 || code=$?
[ "$code" -eq 1 ] || fail "a damaged checkpoint must exit 1 (runtime error), got $code"
pass "damaged checkpoints: exit 1 with the dataset's shape and type named, for train --resume, eval and predict"

# The checksum covers the seed and the options: an edited attribute is refused.
damaged "$WORK/ck/$ck" "$WORK/seed.h5" "f.attrs['seed'] = np.array([43], np.int64)"
damaged "$WORK/ck/$ck" "$WORK/config.h5" "f.attrs['config'] = np.bytes_(b'lr=9\n')"
EXPECT_CODE=1 expect_failure "edited-seed" "^dptrain: error: $WORK/seed.h5: checksum mismatch" 2 "${args[@]}" --resume "$WORK/seed.h5"
EXPECT_CODE=1 expect_failure "edited-config" "^dptrain: error: $WORK/config.h5: checksum mismatch" 2 "${args[@]}" --resume "$WORK/config.h5"

# A user's backup without the step part, and a killed writer's temporary file (its pid is gone).
mkdir -p "$WORK/ck2"
cp "$WORK/ck/$ck" "$WORK/ck2/ckpt-e2.h5"
cp "$WORK/ck/$ck" "$WORK/ck2/ckpt-e00002-s0000000020.h5.bak"
bash -c 'exit 0' & dead=$!; wait $dead
stale=".ckpt-e00001-s0000000010.h5.tmp.$(hostname).$dead"
live=".ckpt-e00001-s0000000011.h5.tmp.$(hostname).$$"
echo partial >"$WORK/ck2/$stale"
echo partial >"$WORK/ck2/$live"
run_mpi 2 "${args[@]}" --checkpoint-dir "$WORK/ck2" --resume auto --checkpoint-every 5steps --keep-last 2 \
  >"$WORK/ck2.log" 2>&1 || { cat "$WORK/ck2.log"; fail "a backup ckpt-e2.h5 in the folder broke the run"; }
grep -q "no checkpoint in $WORK/ck2; starting fresh" "$WORK/ck2.log" || { cat "$WORK/ck2.log"; fail "the backup was taken for a checkpoint"; }
[ "$(ls "$WORK/ck2" | grep -c '^ckpt-e[0-9]*-s[0-9]*\.h5$')" -eq 2 ] || fail "--keep-last 2 not applied: $(ls "$WORK/ck2")"
[ -f "$WORK/ck2/ckpt-e2.h5" ] && [ -f "$WORK/ck2/ckpt-e00002-s0000000020.h5.bak" ] || fail "the user's backups were removed"
[ ! -e "$WORK/ck2/$stale" ] || fail "the killed writer's temporary file was not removed"
[ -e "$WORK/ck2/$live" ] || fail "a live writer's temporary file was removed"
run_mpi 2 "${args[@]}" --epochs 3 --checkpoint-dir "$WORK/ck2" --resume auto >"$WORK/ck2b.log" 2>&1 ||
  { cat "$WORK/ck2b.log"; fail "--resume auto with a backup in the folder failed"; }
grep -q "resumed from $WORK/ck2/ckpt-e00002-s" "$WORK/ck2b.log" || { cat "$WORK/ck2b.log"; fail "did not resume from the newest checkpoint"; }
pass "backups (ckpt-e2.h5, .bak) ignored and kept, killed writer's temp file removed, live one kept, saves and --resume auto work"
