# --early-stopping PATIENCE stops when the validation metric has not improved for PATIENCE
# epochs (the epoch is recomputed from the metrics file); --keep-best leaves the best epoch's
# model in --checkpoint; eval --val-fraction F --seed S scores exactly the rows training held
# out (its loss equals the training run's val_loss of that model, on another rank count).
source "$(dirname "$0")/lib.sh"
# Few noisy rows and a wide MLP: validation loss turns up after a few epochs.
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 300 --features 20 --classes 3 --noise 2.0 --seed 1 >/dev/null
train=(train --data "$WORK/d.h5" --val-fraction 0.5 --seed 7 --model mlp:64 --lr 0.2 --epochs 40 --batch 10 --progress off)

# expect_stop METRICS PATIENCE KEY MODE: prints "STOP BEST BEST_VALUE" as the rule computes them.
expect_stop() {
  "$PYTHON" - "$@" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
patience, key, mode = int(sys.argv[2]), sys.argv[3], sys.argv[4]
best, best_epoch, stop = None, 0, rows[-1]["epoch"]
for r in rows:
    v = r[key]
    if best is None or (v < best if mode == "min" else v > best):
        best, best_epoch = v, r["epoch"]
    elif r["epoch"] - best_epoch >= patience:
        stop = r["epoch"]
        break
print(stop, best_epoch, repr(best), len(rows))
PY
}

run_mpi 2 "${train[@]}" --early-stopping 3 --keep-best --metrics "$WORK/best.jsonl" --checkpoint "$WORK/best.h5" >"$WORK/best.log"
read -r stop best_epoch best_loss epochs_run <<<"$(expect_stop "$WORK/best.jsonl" 3 val_loss min)"
[ "$stop" -lt 40 ] || fail "no early stop in 40 epochs (the data should overfit)"
[ "$epochs_run" -eq "$stop" ] || fail "ran $epochs_run epochs; patience 3 after the best epoch $best_epoch means $stop"
grep -q "early stopping after epoch $stop: val_loss has not improved for 3 epoch(s)" "$WORK/best.log" || { cat "$WORK/best.log" >&2; fail "no early-stopping line"; }
grep -q "keeping the best epoch's model: epoch $best_epoch" "$WORK/best.log" || fail "no keep-best line"
pass "--early-stopping 3: stopped after epoch $stop (best val_loss $best_loss at epoch $best_epoch)"

# The kept model scores the held-out rows (on 3 ranks) as training scored them at its best epoch.
run_mpi 3 eval --model "$WORK/best.h5" --data "$WORK/d.h5" --val-fraction 0.5 --seed 7 --json >"$WORK/eval.json"
loss=$("$PYTHON" -c "import json; print(json.load(open('$WORK/eval.json'))['loss'])")
rows=$("$PYTHON" -c "import json; print(json.load(open('$WORK/eval.json'))['rows'])")
[ "$rows" -eq 150 ] || fail "eval --val-fraction 0.5 scored $rows rows, expected the 150 held out"
"$PYTHON" -c "import sys; sys.exit(0 if abs($loss - $best_loss) <= 1e-5 * abs($best_loss) else 1)" ||
  fail "--keep-best model: eval val loss $loss != best val_loss $best_loss"
pass "--keep-best + eval --val-fraction: held-out loss $loss equals the best epoch's val_loss"
# The same with the node exchange keeping the parameters once for the node (what large models
# get): validation reads them there, and the best epoch's are restored after they are copied out.
DPTRAIN_SHARED_PARAMETERS_FROM=0 run_mpi 2 "${train[@]}" --early-stopping 3 --keep-best \
  --metrics "$WORK/best-once.jsonl" --checkpoint "$WORK/best-once.h5" >"$WORK/best-once.log"
grep -q "kept once for the node" "$WORK/best-once.log" || { cat "$WORK/best-once.log" >&2; fail "parameters not kept once"; }
cmp -s <(cut -d, -f1-4 "$WORK/best.jsonl") <(cut -d, -f1-4 "$WORK/best-once.jsonl") \
  || fail "parameters once for the node: the epochs' losses differ from the per-rank run's"
params_close "$WORK/best-once.h5" "$WORK/best.h5" 0 || fail "parameters once for the node: another kept model"
pass "--keep-best with the parameters once for the node: the same epochs and bitwise the same kept model"

# Without --keep-best the model is the last epoch's; another seed holds out other rows.
run_mpi 1 "${train[@]}" --early-stopping 3 --metrics "$WORK/last.jsonl" --checkpoint "$WORK/last.h5" >/dev/null
last_loss=$(metric "$WORK/last.jsonl" val_loss)
run_mpi 2 eval --model "$WORK/last.h5" --data "$WORK/d.h5" --val-fraction 0.5 --seed 7 --json >"$WORK/last.json"
loss=$("$PYTHON" -c "import json; print(json.load(open('$WORK/last.json'))['loss'])")
"$PYTHON" -c "import sys; sys.exit(0 if abs($loss - $last_loss) <= 1e-5 * abs($last_loss) else 1)" ||
  fail "without --keep-best: eval loss $loss != last val_loss $last_loss"
run_mpi 1 eval --model "$WORK/last.h5" --data "$WORK/d.h5" --val-fraction 0.5 --seed 8 --json >"$WORK/other.json"
other=$("$PYTHON" -c "import json; print(json.load(open('$WORK/other.json'))['loss'])")
"$PYTHON" -c "import sys; sys.exit(0 if abs($other - $last_loss) > 1e-4 else 1)" || fail "--seed 8 scored the same rows as --seed 7"
pass "no --keep-best: last epoch's model (val_loss $last_loss); another --seed scores other rows"

# val_acc: higher is better.
run_mpi 2 "${train[@]}" --early-stopping 2 --early-stopping-metric val_acc --metrics "$WORK/acc.jsonl" >/dev/null
read -r stop best_epoch best_acc epochs_run <<<"$(expect_stop "$WORK/acc.jsonl" 2 val_accuracy max)"
[ "$epochs_run" -eq "$stop" ] && [ "$stop" -lt 40 ] || fail "val_acc: ran $epochs_run epochs, expected $stop"
pass "--early-stopping-metric val_acc: stopped after epoch $stop (best $best_acc at epoch $best_epoch)"

expect_failure no_val "--early-stopping needs validation data: --val FILE or --val-fraction F" 2 \
  train --data "$WORK/d.h5" --early-stopping 2
expect_failure keep_best_no_val "--keep-best needs validation data" 1 train --data "$WORK/d.h5" --keep-best
expect_failure bad_metric "--early-stopping-metric 'val_f1': expected val_loss or val_acc" 1 \
  "${train[@]}" --early-stopping 2 --early-stopping-metric val_f1
"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 100 --features 3 --targets 1 --seed 2 >/dev/null
expect_failure acc_regression "val_acc needs a classifier" 2 train --data "$WORK/reg.h5" --model linear \
  --val-fraction 0.2 --early-stopping 2 --early-stopping-metric val_acc
expect_failure eval_fraction "--val-fraction must be in \\[0, 1\\)" 1 eval --model "$WORK/best.h5" --data "$WORK/d.h5" --val-fraction 1.5
