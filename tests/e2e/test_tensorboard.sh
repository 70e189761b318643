# --tensorboard DIR: rank 0 alone writes one TensorBoard event file; a small parser (no
# TensorBoard installed) checks every record's length and masked CRC-32C, decodes the Event and
# Summary protobufs and finds each epoch's loss, accuracy, val_loss, val_accuracy, samples/s
# and learning rate equal to the metrics file's.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$DPTRAIN" gen --out d.h5 --rows 200 --features 5 --classes 3 --seed 2 >/dev/null
run_mpi 2 train --data d.h5 --model mlp:8 --val-fraction 0.25 --epochs 3 --batch 20 --progress off \
  --tensorboard tb/run1 --metrics m.jsonl >train.log
files=(tb/run1/*)
[ "${#files[@]}" -eq 1 ] || fail "expected one event file from rank 0, found: ${files[*]}"
case ${files[0]} in *events.out.tfevents.*) ;; *) fail "${files[0]}: TensorBoard reads files named *tfevents*" ;; esac
out=$("$PYTHON" "$SOURCE_DIR/tests/e2e/tensorboard_check.py" "${files[0]}" m.jsonl) || fail "event file check failed"
grep -q "^19 events, 18 scalars match" <<<"$out" || fail "unexpected event count: $out"
pass "tb/run1: $out"

# Regression without validation: loss, samples/s and learning rate only.
"$DPTRAIN" gen --out r.h5 --rows 100 --features 3 --targets 1 --seed 3 >/dev/null
run_mpi 1 train --data r.h5 --model linear --epochs 2 --progress off --tensorboard tb/reg --metrics r.jsonl >/dev/null
out=$("$PYTHON" "$SOURCE_DIR/tests/e2e/tensorboard_check.py" tb/reg/*tfevents* r.jsonl) || fail "regression event file"
grep -q "(learning_rate, loss, samples_per_s)" <<<"$out" || fail "regression tags: $out"
pass "tb/reg: $out"

touch not_a_folder
expect_failure not_folder "--tensorboard not_a_folder: .*exists and is not a folder" 2 \
  train --data r.h5 --model linear --epochs 1 --progress off --tensorboard not_a_folder
