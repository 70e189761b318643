# eval and predict under mpirun: predictions on p = 1, 2, 3 ranks equal the 1-rank ones and a
# numpy forward pass from the checkpoint's /params, in input row order; eval's metrics equal
# those recomputed from the predictions; --stdin answers each line as it arrives; bad inputs
# fail on every rank with one clear message and no hang.
source "$(dirname "$0")/lib.sh"
check() { "$PYTHON" "$(dirname "$0")/predict_check.py" "$@"; }

# Data: 1001 rows (not divisible by 2 or 3); models trained on 1 or 2 ranks, scored on 1-3.
"$DPTRAIN" gen --out "$WORK/cls.h5" --rows 1001 --features 13 --classes 4 --noise 0.5 --seed 7 >/dev/null
"$DPTRAIN" gen --out "$WORK/bin.h5" --rows 1001 --features 6 --classes 2 --noise 0.5 --seed 9 >/dev/null
"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 1001 --features 9 --targets 2 --noise 0.3 --seed 8 >/dev/null
train=(train --epochs 3 --batch 64 --seed 3 --progress off)
run_mpi 2 "${train[@]}" --data "$WORK/cls.h5" --model softmax --lr 0.5 --checkpoint "$WORK/softmax.h5" >/dev/null
run_mpi 1 "${train[@]}" --data "$WORK/cls.h5" --model mlp:16,8 --activation tanh --lr 0.1 \
  --checkpoint "$WORK/mlp.h5" >/dev/null
run_mpi 2 "${train[@]}" --data "$WORK/bin.h5" --model logistic --lr 0.5 --checkpoint "$WORK/logistic.h5" >/dev/null
run_mpi 1 "${train[@]}" --data "$WORK/reg.h5" --model linear --lr 0.05 --checkpoint "$WORK/linear.h5" >/dev/null

for pair in softmax:cls mlp:cls logistic:bin linear:reg; do
  model=${pair%%:*} data=$WORK/${pair##*:}.h5
  run_mpi 1 predict --model "$WORK/$model.h5" --data "$data" --out "$WORK/$model-p1.h5" --threads 1 >/dev/null
  check forward "$WORK/$model.h5" "$data" "$WORK/$model-p1.h5" || fail "$model: 1-rank predictions"
  pass "$model: 1-rank predictions match numpy in row order"
  for np in 2 3; do
    # Small blocks, so the ordered gather moves many blocks per rank.
    run_mpi "$np" predict --model "$WORK/$model.h5" --data "$data" --out "$WORK/$model-p$np.h5" \
      --threads 2 --block-rows 97 >/dev/null
    check same "$WORK/$model-p$np.h5" "$WORK/$model-p1.h5" || fail "$model: p=$np differs from p=1"
    pass "$model: p=$np predictions equal p=1"
  done
  case $model in softmax | linear) evals="1 3" ;; *) evals="3" ;; esac
  for np in $evals; do
    run_mpi "$np" eval --model "$WORK/$model.h5" --data "$data" --json --threads 2 --block-rows 300 \
      >"$WORK/$model-eval$np.json"
    check metrics "$WORK/$model-eval$np.json" "$WORK/$model-p1.h5" "$data" || fail "$model: eval p=$np"
    pass "$model: eval p=$np metrics equal those from the predictions"
  done
done
# The human table names the metrics.
run_mpi 2 eval --model "$WORK/softmax.h5" --data "$WORK/cls.h5" >"$WORK/table.txt"
for word in accuracy precision recall f1 "confusion matrix"; do
  grep -q "$word" "$WORK/table.txt" || fail "eval table lacks '$word'"
done
run_mpi 2 eval --model "$WORK/linear.h5" --data "$WORK/reg.h5" | grep -qE '^r2 +[0-9.]+' || fail "eval table lacks r2"
pass "eval prints a table for classifiers and regression"

# CSV output equals the HDF5 output of the same run configuration exactly (floats are
# written in their shortest round-trip form); no labels are needed to predict.
run_mpi 3 predict --model "$WORK/softmax.h5" --data "$WORK/cls.h5" --out "$WORK/softmax.csv" \
  --threads 2 --block-rows 97 >/dev/null
check csv "$WORK/softmax.csv" "$WORK/softmax-p3.h5" || fail "softmax csv"
run_mpi 2 predict --model "$WORK/linear.h5" --data "$WORK/reg.h5" --out "$WORK/linear.txt" \
  --out-format csv --threads 2 --block-rows 97 >/dev/null
check csv "$WORK/linear.txt" "$WORK/linear-p2.h5" || fail "linear csv"
py "import h5py; s = h5py.File('$WORK/cls.h5', 'r'); h5py.File('$WORK/nolabels.h5', 'w')['features'] = s['features'][...]"
run_mpi 3 predict --model "$WORK/softmax.h5" --data "$WORK/nolabels.h5" --out "$WORK/nolabels-p3.h5" >/dev/null
check same "$WORK/nolabels-p3.h5" "$WORK/softmax-p1.h5" || fail "predict without labels"
pass "csv output and unlabelled input"

# --stdin: a coprocess gets an answer to each line while its input is still open.
coproc STREAM { "$DPTRAIN" predict --model "$WORK/softmax.h5" --stdin --threads 2; }
check rows "$WORK/cls.h5" 0 3 >"$WORK/rows3.csv"
: >"$WORK/stream-answers.txt"
head -1 "$WORK/rows3.csv" >&"${STREAM[1]}"
read -t 20 -r answer <&"${STREAM[0]}" || fail "stdin: no answer to line 1 within 20 s"
echo "$answer" >>"$WORK/stream-answers.txt"
tail -2 "$WORK/rows3.csv" >&"${STREAM[1]}"
for i in 2 3; do
  read -t 20 -r answer <&"${STREAM[0]}" || fail "stdin: no answer to line $i within 20 s"
  echo "$answer" >>"$WORK/stream-answers.txt"
done
stream_in=${STREAM[1]}
exec {stream_in}>&-
wait "$STREAM_PID" || fail "stdin: exit code $? after end of input"
check lines "$WORK/stream-answers.txt" "$WORK/softmax-p1.h5" 0 3 || fail "stdin answers"
pass "stdin: each line answered while the stream stays open"
# A pipe with many lines (several batches) under mpirun -np 1.
check rows "$WORK/cls.h5" 100 700 >"$WORK/rows700.csv"
"$MPIEXEC" -np 1 --bind-to none "$DPTRAIN" predict --model "$WORK/softmax.h5" --stdin --threads 2 \
  --batch-lines 64 <"$WORK/rows700.csv" >"$WORK/stream700.txt"
check lines "$WORK/stream700.txt" "$WORK/softmax-p1.h5" 100 700 || fail "stdin pipe"
pass "stdin: 700 piped lines answered in order"

# Bad inputs: one clear message, non-zero exit, on every rank count.
"$DPTRAIN" gen --out "$WORK/narrow.h5" --rows 50 --features 9 --classes 4 --seed 1 >/dev/null
py "
import h5py, numpy as np
s = h5py.File('$WORK/cls.h5', 'r'); x = s['features'][...]; x[700, 5] = np.nan
with h5py.File('$WORK/nan.h5', 'w') as f: f['features'] = x; f['labels'] = s['labels'][...]"
expect_failure predict-width "error: model/data width mismatch: .*softmax.h5.* takes 13 features.*narrow.h5 has 9" \
  1 predict --model "$WORK/softmax.h5" --data "$WORK/narrow.h5" --out "$WORK/x.h5"
expect_failure eval-width "error: model/data width mismatch: .*takes 13 features.*narrow.h5 has 9" \
  3 eval --model "$WORK/softmax.h5" --data "$WORK/narrow.h5"
expect_failure predict-missing-model "error: cannot load checkpoint: .*missing.h5" \
  3 predict --model "$WORK/missing.h5" --data "$WORK/cls.h5" --out "$WORK/x.h5"
expect_failure eval-missing-model "error: cannot load checkpoint: .*missing.h5" \
  2 eval --model "$WORK/missing.h5" --data "$WORK/cls.h5"
# Row 700 lies in the last rank's shard on 3 ranks: that rank's message reaches rank 0.
expect_failure predict-nan "error: .*nan.h5 row 700: feature column 5 of '/features' is NaN.*\[rank 2\]" \
  3 predict --model "$WORK/softmax.h5" --data "$WORK/nan.h5" --out "$WORK/x.h5"
expect_failure eval-nan "error: .*nan.h5 row 700: feature column 5 of '/features' is NaN.*\[rank 2\]" \
  3 eval --model "$WORK/softmax.h5" --data "$WORK/nan.h5"
expect_failure eval-no-labels "error: .*nolabels.h5: no dataset '/labels'" \
  2 eval --model "$WORK/softmax.h5" --data "$WORK/nolabels.h5"
[ ! -e "$WORK/x.h5" ] || fail "a failed predict left an output file"
ls -a "$WORK" | grep -q '\.tmp\.' && fail "a failed predict left a temporary file"
pass "failed runs leave no output or temporary file"

# Bad stdin lines: earlier lines are answered, then the error names the line.
stdin_failure() {
  local name=$1 pattern=$2 answers=$3 input=$4 code=0
  printf '%b' "$input" | timeout 30 "$DPTRAIN" predict --model "$WORK/softmax.h5" --stdin \
    >"$WORK/$name.out" 2>"$WORK/$name.err" || code=$?
  [ "$code" -ne 124 ] || fail "$name: hung"
  [ "$code" -ne 0 ] || fail "$name: exit code 0"
  grep -qE "$pattern" "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: no /$pattern/"; }
  [ "$(wc -l <"$WORK/$name.out")" -eq "$answers" ] || fail "$name: expected $answers answers"
  pass "$name (exit $code, $answers answers first): $(cat "$WORK/$name.err")"
}
row=$(head -1 "$WORK/rows3.csv")
stdin_failure stdin-width "error: stdin line 3: expected 13 comma-separated feature values.*got 12" 2 \
  "$row\n$row\n${row%,*}\n$row\n"
stdin_failure stdin-nan "error: stdin line 2, column 13: NaN" 1 "$row\n${row%,*},nan\n"
stdin_failure stdin-text "error: stdin line 1, column 1: 'x' is not a number" 0 "x,${row#*,}\n"
expect_failure stdin-ranks "error: predict --stdin runs on one process" \
  2 predict --model "$WORK/softmax.h5" --stdin </dev/null
