# dptrain compare: checkpoints from 1, 2 and 3 ranks with --deterministic are bitwise equal
# (exit 0); a different run fails (exit 1) and the reported largest difference is the one
# numpy finds, named as PyTorch names it ([out, in] index); different models are reported as
# such; prediction files within a tolerance; metrics JSONL files; errors exit 2; every rank
# of an mpirun job exits with the same code and the report is printed once.
source "$(dirname "$0")/lib.sh"

# expect_exit CODE NAME CMD... : runs CMD, which must exit with CODE; output in $WORK/NAME.out.
expect_exit() {
  local want=$1 name=$2 code=0; shift 2
  timeout 60 "$@" >"$WORK/$name.out" 2>&1 || code=$?
  [ "$code" -eq "$want" ] || { cat "$WORK/$name.out" >&2; fail "$name: exit $code, expected $want"; }
  pass "$name: exit $code"
}
# has NAME REGEX : the output of NAME matches REGEX exactly once.
has() {
  local n
  n=$(grep -cE -- "$2" "$WORK/$1.out" || true)
  [ "$n" -eq 1 ] || { cat "$WORK/$1.out" >&2; fail "$1: expected /$2/ once, saw it $n times"; }
}

"$DPTRAIN" gen --out "$WORK/d.h5" --rows 1001 --features 6 --classes 3 --seed 5 >/dev/null
train=(train --data "$WORK/d.h5" --epochs 2 --batch 50 --lr 0.1 --optimizer momentum --deterministic --progress off)
for np in 1 2 3; do
  run_mpi "$np" "${train[@]}" --model mlp:8,5 --checkpoint "$WORK/m$np.h5" --metrics "$WORK/m$np.jsonl" >/dev/null
done

# Bitwise equal across rank counts, with --rtol 0 alone and with both zero.
expect_exit 0 bitwise12 "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/m2.h5" --rtol 0
has bitwise12 '^result: PASS: all [0-9]+ values are bitwise identical'
has bitwise12 '^0\.weight +\[8, 6\] +48 +0 +0'
has bitwise12 '^4\.bias +\[3\] '
has bitwise12 '^optimizer/velocity/2\.weight +\[5, 8\]'
expect_exit 0 bitwise13 "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/m3.h5" --rtol 0 --atol 0
expect_exit 0 metrics13 "$DPTRAIN" compare --metrics "$WORK/m1.jsonl" "$WORK/m3.jsonl" --rtol 0
has metrics13 '^result: PASS: all [0-9]+ values are identical'
has metrics13 '^not compared: .*epoch_s.*ranks.*samples_per_s.*threads'

# A different run (another learning rate): fails, and the largest difference is numpy's.
run_mpi 2 "${train[@]}" --model mlp:8,5 --lr 0.11 --checkpoint "$WORK/other.h5" --metrics "$WORK/other.jsonl" >/dev/null
expect_exit 1 differ "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/other.h5" --params-only --top 3
has differ '^result: FAIL: [0-9]+ of 119 values differ beyond rtol 1e-05, atol 0; worst '
expected=$("$PYTHON" - "$WORK/m1.h5" "$WORK/other.h5" <<'PY'
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["params"][...]
b = h5py.File(sys.argv[2], "r")["params"][...]
widths = list(h5py.File(sys.argv[1], "r").attrs["widths"])
best = None
off = 0
for l in range(len(widths) - 1):
    i, o = widths[l], widths[l + 1]
    # The flat buffer holds each weight column-major [o x i]: reshape to [i, o] and transpose.
    wa = a[off:off + o * i].reshape(i, o).T; wb = b[off:off + o * i].reshape(i, o).T
    d = np.abs(wa.astype(np.float64) - wb)
    k = np.unravel_index(np.argmax(d), d.shape)
    if best is None or d[k] > best[0]: best = (d[k], f"{2*l}.weight[{k[0]}, {k[1]}]")
    off += o * i
    d = np.abs(a[off:off + o].astype(np.float64) - b[off:off + o])
    k = int(np.argmax(d))
    if d[k] > best[0]: best = (d[k], f"{2*l}.bias[{k}]")
    off += o
print(best[1])
PY
)
first=$(grep -A1 '^largest differences' "$WORK/differ.out" | tail -1 | sed -E 's/^  ([^:]+):.*/\1/')
[ "$first" = "$expected" ] || { cat "$WORK/differ.out" >&2; fail "largest difference at $first, numpy says $expected"; }
pass "largest difference $expected, as numpy finds it"
expect_exit 0 loose "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/other.h5" --params-only --rtol 0 --atol 100
has loose '^result: PASS: [0-9]+ of 119 values differ, all within rtol 0, atol 100'
expect_exit 1 metrics_differ "$DPTRAIN" compare --metrics "$WORK/m1.jsonl" "$WORK/other.jsonl" --rtol 1e-6
has metrics_differ '^result: FAIL: [0-9]+ of 14 values differ beyond rtol 1e-06, atol 0; worst epoch [12] '
expect_exit 0 metrics_ignored "$DPTRAIN" compare --metrics "$WORK/m1.jsonl" "$WORK/other.jsonl" --rtol 0 \
  --ignore train_loss,train_accuracy,lr

# A different model: reported as such.
run_mpi 1 "${train[@]}" --model softmax --checkpoint "$WORK/soft.h5" >/dev/null
expect_exit 1 models "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/soft.h5"
has models '^DIFFERENT: model descriptions differ: .*m1\.h5 has mlp:8,5 6-8-5-3 relu.*soft\.h5 has softmax 6-3'
has models '^result: FAIL: the files differ in what they hold'
# Another epoch count: the training state differs; --params-only then compares the values.
run_mpi 1 "${train[@]}" --model mlp:8,5 --epochs 3 --checkpoint "$WORK/e3.h5" >/dev/null
expect_exit 1 state "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/e3.h5" --atol 1e9
has state '^DIFFERENT: training states differ: .*epoch 2, .*epoch 3, '

# Prediction files from 1 and 3 ranks: equal within 1e-5; another model's predictions are not.
run_mpi 1 predict --model "$WORK/m1.h5" --data "$WORK/d.h5" --out "$WORK/p1.h5" >/dev/null
run_mpi 3 predict --model "$WORK/m1.h5" --data "$WORK/d.h5" --out "$WORK/p3.h5" >/dev/null
run_mpi 1 predict --model "$WORK/other.h5" --data "$WORK/d.h5" --out "$WORK/po.h5" >/dev/null
expect_exit 0 predictions "$DPTRAIN" compare "$WORK/p1.h5" "$WORK/p3.h5" --rtol 1e-5 --atol 1e-6
has predictions '^probabilities +\[1001, 3\] +3003 '
expect_exit 1 predictions_differ "$DPTRAIN" compare "$WORK/p1.h5" "$WORK/po.h5" --rtol 1e-3
has predictions_differ '^result: FAIL: .*; worst probabilities\[[0-9]+, [0-2]\]|^result: FAIL: .*; worst predictions\[[0-9]+\]'

# Trouble: exit 2 with a message naming the file or option.
expect_exit 2 missing "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/missing.h5"
has missing '^dptrain compare: error: .*missing\.h5'
expect_exit 2 kinds "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/p1.h5"
has kinds 'cannot compare .*m1\.h5 \(a checkpoint\) with .*p1\.h5 \(a predictions file\)'
expect_exit 2 data_file "$DPTRAIN" compare "$WORK/d.h5" "$WORK/m1.h5"
has data_file 'd\.h5: neither a dptrain checkpoint .* use --metrics'
expect_exit 2 negative "$DPTRAIN" compare "$WORK/m1.h5" "$WORK/m2.h5" --rtol -1
has negative '--rtol and --atol must be finite and >= 0'
expect_exit 2 one_file "$DPTRAIN" compare "$WORK/m1.h5"
has one_file 'files: At least 2 required but received 1'
printf '{"epoch": 1, "train_loss": 0.5}\nnot json\n' >"$WORK/bad.jsonl"
expect_exit 2 bad_jsonl "$DPTRAIN" compare --metrics "$WORK/m1.jsonl" "$WORK/bad.jsonl"
has bad_jsonl 'bad\.jsonl line 2: not JSON'

# Under mpirun on 3 ranks: one report, and every rank exits with the verdict's code.
for want in 0 1 2; do
  case $want in
    0) files=("$WORK/m1.h5" "$WORK/m2.h5") ;;
    1) files=("$WORK/m1.h5" "$WORK/other.h5") ;;
    2) files=("$WORK/m1.h5" "$WORK/missing.h5") ;;
  esac
  rm -f "$WORK/codes"
  "$MPIEXEC" -np 3 --bind-to none bash -c '"$0" compare "$1" "$2" --rtol 0 >"$3.$OMPI_COMM_WORLD_RANK" 2>&1; echo $? >>"$3"' \
    "$DPTRAIN" "${files[@]}" "$WORK/codes" || true
  codes=$(sort "$WORK/codes" | uniq -c | awk '{print $1 "x" $2}')
  [ "$codes" = "3x$want" ] || fail "mpirun -np 3 compare: rank exit codes $codes, expected 3x$want"
  reports=$(cat "$WORK/codes".[012] | grep -cE '^result:|^dptrain compare: error' || true)
  [ "$reports" -eq 1 ] || fail "mpirun -np 3 compare: $reports reports, expected 1"
  pass "mpirun -np 3 compare: every rank exits $want, one report"
done
