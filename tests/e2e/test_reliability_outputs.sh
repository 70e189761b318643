# Outputs on a disk that is really full or read-only (issue 12, class 2): a small tmpfs is
# mounted for the test (needs root; exit 77 = skipped otherwise) and removed at the end.
# Every output path is checked (or its folder created) before the first step; metrics written
# to a full disk fail the run (exit 1) instead of vanishing with exit 0; a final model that
# cannot be written is kept next to the metrics; every message names the user's file (never
# the hidden temporary file) and the system's reason (ENOSPC, EROFS); no temporary file is
# left behind.
source "$(dirname "$0")/lib.sh"
MNT=$WORK/small
mkdir -p "$MNT" "$WORK/ro"
if ! mount -t tmpfs -o size=64k tmpfs "$MNT" 2>"$WORK/mount.err"; then
  echo "SKIP: cannot mount a 64 KiB tmpfs to fill a disk for real ($(cat "$WORK/mount.err")); needs root"
  exit 77
fi
mount -t tmpfs -o size=64k,ro tmpfs "$WORK/ro" || { umount "$MNT"; fail "cannot mount a read-only tmpfs"; }
trap 'umount "$MNT" "$WORK/ro" 2>/dev/null; rm -rf "$WORK"' EXIT

cd "$WORK"  # a rescued model without --metrics goes to the working folder
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 200 --features 4 --classes 3 --seed 3 >/dev/null
args=(train --data "$WORK/d.h5" --model softmax --batch 50 --progress off)

# fill_leaving KIB : fill the tmpfs so that KIB KiB stay free.
fill_leaving() {
  rm -rf "${MNT:?}"/*
  dd if=/dev/zero of="$MNT/filler" bs=1k count=$((64 - $1)) status=none
}

# Metrics: 8 KiB free hold the config sidecar and ~10 lines; epoch ~12 finds the disk full.
fill_leaving 8
code=0
run_mpi 2 "${args[@]}" --epochs 60 --metrics "$MNT/metrics.jsonl" >"$WORK/m.log" 2>&1 || code=$?
[ "$code" -eq 1 ] || { cat "$WORK/m.log"; fail "metrics on a full disk: exit $code, expected 1"; }
grep -q "^dptrain: error: $MNT/metrics.jsonl: writing metrics failed: No space left on device (ENOSPC)" "$WORK/m.log" ||
  { cat "$WORK/m.log"; fail "metrics on a full disk: no ENOSPC message naming the file"; }
lines=$(wc -l <"$MNT/metrics.jsonl")
grep -q '^epoch 60/60' "$WORK/m.log" && fail "the run went on to the end after its metrics were lost"
pass "metrics on a full disk: exit 1 after $lines line(s), message names the file and ENOSPC"

# The final model on a full disk: the message names model.h5, not the temporary file.
fill_leaving 4
EXPECT_CODE=1 expect_failure "model-full-disk" "^dptrain: error: $MNT/model.h5: .*No space left on device \(ENOSPC\).*written to ./model.rescued.h5 instead" \
  2 "${args[@]}" --model mlp:512 --epochs 1 --checkpoint "$MNT/model.h5"
grep -q '\.tmp\.' "$WORK/model-full-disk.out" && fail "the message names the hidden temporary file"
[ -z "$(ls -A "$MNT" | grep -v '^filler$')" ] || fail "files left on the full disk: $(ls -A "$MNT")"
pass "model on a full disk: user's file named, no temporary file left"

# Checkpoints in a full folder, and predictions and converted data on a full disk.
fill_leaving 4
EXPECT_CODE=1 expect_failure "checkpoint-full-disk" "^dptrain: error: $MNT/ck/ckpt-e00001-s0000000004.h5: .*No space left on device \(ENOSPC\)" \
  2 "${args[@]}" --model mlp:512 --epochs 1 --checkpoint-dir "$MNT/ck"
run_mpi 1 "${args[@]}" --model mlp:512 --epochs 1 --checkpoint "$WORK/big.h5" >/dev/null
"$DPTRAIN" gen --out "$WORK/many.h5" --rows 20000 --features 4 --classes 3 --seed 4 >/dev/null
fill_leaving 4
EXPECT_CODE=1 expect_failure "predict-full-disk" "^dptrain: error: $MNT/p.h5: .*No space left on device \(ENOSPC\)" \
  2 predict --model "$WORK/big.h5" --data "$WORK/many.h5" --out "$MNT/p.h5"
EXPECT_CODE=1 expect_failure "predict-csv-full-disk" "^dptrain: error: $MNT/p.csv: .*No space left on device \(ENOSPC\)" \
  2 predict --model "$WORK/big.h5" --data "$WORK/many.h5" --out "$MNT/p.csv"
[ -z "$(ls -A "$MNT" | grep -v '^filler$')" ] || fail "files left on the full disk: $(ls -A "$MNT")"

# Output paths are checked before the first step: a read-only folder (EROFS) or a path under a
# file ends the run at once with exit 2, before any epoch; missing folders are created.
for opt in --checkpoint --timeline --metrics --metrics-csv; do
  code=0
  run_mpi 2 "${args[@]}" --epochs 50 "$opt" "$WORK/ro/out.file" >"$WORK/ro$opt.out" 2>&1 || code=$?
  [ "$code" -eq 2 ] || { cat "$WORK/ro$opt.out"; fail "$opt in a read-only folder: exit $code, expected 2"; }
  grep -q "^dptrain: error: $opt $WORK/ro/out.file: cannot write in the folder $WORK/ro: Read-only file system (EROFS)" "$WORK/ro$opt.out" ||
    { cat "$WORK/ro$opt.out"; fail "$opt in a read-only folder: unclear message"; }
  grep -q '^epoch 1/' "$WORK/ro$opt.out" && fail "$opt in a read-only folder: training ran before the error"
  pass "$opt in a read-only folder: refused before the first step (EROFS, exit 2)"
done
EXPECT_CODE=2 expect_failure "checkpoint-dir-read-only" \
  "^dptrain: error: --checkpoint-dir $WORK/ro/ck: cannot create the folder $WORK/ro/ck: Read-only file system \(EROFS\)" \
  2 "${args[@]}" --epochs 1 --checkpoint-dir "$WORK/ro/ck"
touch "$WORK/plain-file"
EXPECT_CODE=2 expect_failure "checkpoint-under-a-file" "^dptrain: error: --checkpoint $WORK/plain-file/model.h5: $WORK/plain-file exists and is not a folder" \
  2 "${args[@]}" --epochs 1 --checkpoint "$WORK/plain-file/model.h5"
run_mpi 2 "${args[@]}" --epochs 1 --timeline "$WORK/new/a/t.json" --metrics "$WORK/new/b/m.jsonl" \
  --checkpoint "$WORK/new/c/model.h5" --checkpoint-dir "$WORK/new/d" >/dev/null
for f in new/a/t.json new/b/m.jsonl new/c/model.h5; do [ -s "$WORK/$f" ] || fail "$f was not written into a created folder"; done
pass "missing output folders are created before the run"

# The final model cannot be written (the disk fills during the run): it is kept next to the
# metrics, and the message says where.
fill_leaving 4
mkdir -p "$WORK/mets"
code=0
run_mpi 2 "${args[@]}" --model mlp:512 --epochs 1 --checkpoint "$MNT/model.h5" --metrics "$WORK/mets/m.jsonl" >"$WORK/rescue.out" 2>&1 || code=$?
[ "$code" -eq 1 ] || { cat "$WORK/rescue.out"; fail "rescue: exit $code, expected 1"; }
grep -q "^dptrain: error: $MNT/model.h5: .*ENOSPC).*; the trained model was written to $WORK/mets/model.rescued.h5 instead" "$WORK/rescue.out" ||
  { cat "$WORK/rescue.out"; fail "rescue: no message saying where the model went"; }
run_mpi 1 eval --model "$WORK/mets/model.rescued.h5" --data "$WORK/d.h5" >"$WORK/rescued-eval.out" ||
  fail "the rescued model does not load"
pass "final model on a full disk: kept as $WORK/mets/model.rescued.h5 (it evaluates), exit 1"
