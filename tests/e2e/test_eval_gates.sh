# dptrain eval --fail-under / --fail-over / --junit under mpirun on 1, 2 and 3 ranks: passing
# gates exit 0, a failing one exits 1 with a line naming metric, value and threshold, unknown
# or inapplicable metrics are usage errors (exit 2) listing the valid names, and every rank
# exits with the same code. The JUnit file is checked with xmllint and Python's XML parser.
source "$(dirname "$0")/lib.sh"

"$DPTRAIN" gen --out "$WORK/c.h5" --rows 1001 --features 8 --classes 4 --seed 3 >/dev/null
run_mpi 2 train --data "$WORK/c.h5" --model softmax --epochs 3 --batch 64 --lr 0.2 --progress off \
  --checkpoint "$WORK/m.h5" >/dev/null
json=$(run_mpi 1 eval --model "$WORK/m.h5" --data "$WORK/c.h5" --json)
accuracy=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["accuracy"])' "$json")
macro_f1=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["macro_f1"])' "$json")
echo "model accuracy $accuracy, macro F1 $macro_f1"

# eval_codes NP NAME ARGS... : eval on NP ranks; every rank's exit code into $WORK/NAME.codes,
# all output into $WORK/NAME.out.
eval_codes() {
  local np=$1 name=$2; shift 2
  rm -f "$WORK/$name.codes"
  timeout 60 "$MPIEXEC" -np "$np" --bind-to none bash -c '"$0" eval "${@:2}"; echo $? >>"$1"' \
    "$DPTRAIN" "$WORK/$name.codes" --model "$WORK/m.h5" --data "$WORK/c.h5" "$@" >"$WORK/$name.out" 2>&1 || true
}
# expect_codes NAME NP CODE : every one of NP ranks exited with CODE.
expect_codes() {
  local got
  got=$(sort "$WORK/$1.codes" | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
  [ "$got" = "$2x$3 " ] || { cat "$WORK/$1.out" >&2; fail "$1: rank exit codes '$got', expected ${2}x$3"; }
}
# once NAME REGEX : the output of NAME has REGEX exactly once.
once() {
  local n
  n=$(grep -cE -- "$2" "$WORK/$1.out" || true)
  [ "$n" -eq 1 ] || { cat "$WORK/$1.out" >&2; fail "$1: expected /$2/ once, saw it $n times"; }
}

for np in 1 2 3; do
  eval_codes "$np" pass$np --fail-under accuracy=0.5,f1_macro=0.4,recall.0=0.1 --fail-over loss=5
  expect_codes pass$np "$np" 0
  once pass$np "^dptrain: PASS: accuracy = ${accuracy}[0-9]* >= 0\.5 \(--fail-under accuracy=0\.5\)$"
  once pass$np '^dptrain: PASS: loss = [0-9.]+ <= 5 \(--fail-over loss=5\)$'
  pass "np=$np: thresholds met, exit 0 on every rank"

  eval_codes "$np" under$np --fail-under accuracy=0.999,f1_macro=0.4
  expect_codes under$np "$np" 1
  once under$np "^dptrain: FAIL: accuracy = ${accuracy}[0-9]* is under 0\.999 \(--fail-under accuracy=0\.999\)$"
  once under$np '^dptrain: PASS: f1_macro = '
  pass "np=$np: accuracy under 0.999, exit 1 on every rank"

  eval_codes "$np" over$np --json --fail-over loss=0.001
  expect_codes over$np "$np" 1
  once over$np '^dptrain: FAIL: loss = [0-9.e-]+ is over 0\.001 \(--fail-over loss=0\.001\)$'
  once over$np '^\{"model": '
  pass "np=$np: loss over 0.001, exit 1 on every rank (with --json)"

  eval_codes "$np" unknown$np --fail-under acuracy=0.8
  expect_codes unknown$np "$np" 2
  once unknown$np "^dptrain eval: usage error: --fail-under 'acuracy=0\.8': unknown metric 'acuracy'; valid metrics: classifiers: loss, accuracy, .*f1_macro.*regression: .*r2"
  pass "np=$np: unknown metric, exit 2 on every rank"
done

eval_codes 2 not_applicable --fail-over mse=0.5
expect_codes not_applicable 2 2
once not_applicable "usage error: metric 'mse' does not apply to a classifier; valid metrics: loss, accuracy"
eval_codes 2 no_class --fail-under recall.4=0.5
expect_codes no_class 2 2
once no_class "usage error: metric 'recall\.4': the model has 4 classes \(0\.\.3\)"
eval_codes 2 bad_number --fail-under accuracy=high
expect_codes bad_number 2 2
once bad_number "'high' is not a finite number"
pass "inapplicable metrics, class ids and numbers: exit 2 on every rank"

# JUnit: one case per threshold and per class; the failed threshold has a <failure>.
mkdir -p "$WORK/reports"
eval_codes 3 junit --fail-under accuracy=0.999,macro_recall=0.1 --fail-over loss=5 --junit "$WORK/reports/eval.xml"
expect_codes junit 3 1
xmllint --noout "$WORK/reports/eval.xml" || fail "xmllint rejects the JUnit file"
"$PYTHON" - "$WORK/reports/eval.xml" "$accuracy" <<'PY' || fail "JUnit content"
import sys, xml.etree.ElementTree as ET
from lxml import etree
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1
suite = suites[0]
cases = suite.findall("testcase")
assert len(cases) == 3 + 4, [c.get("name") for c in cases]
assert suite.get("tests") == "7" and suite.get("failures") == "1" and suite.get("errors") == "0", suite.attrib
names = [c.get("name") for c in cases]
assert names[:3] == ["accuracy >= 0.999", "macro_recall >= 0.1", "loss <= 5"], names
assert names[3:] == ["class 0", "class 1", "class 2", "class 3"], names
failures = [c for c in cases if c.find("failure") is not None]
assert len(failures) == 1 and failures[0].get("name") == "accuracy >= 0.999"
msg = failures[0].find("failure").get("message")
value = msg.split(" ")[2]
assert abs(float(value) - float(sys.argv[2])) < 1e-8, msg
assert msg == f"accuracy = {value} is under 0.999 (--fail-under accuracy=0.999)", msg
props = {p.get("name"): p.get("value") for p in suite.find("properties")}
assert props["ranks"] == "3" and abs(float(props["accuracy"]) - float(sys.argv[2])) < 1e-8, props
support = sum(float({p.get("name"): p.get("value") for p in c.find("properties")}["support"]) for c in cases[3:])
assert support == 1001, support
for c in cases[3:]:
    p = {q.get("name"): float(q.get("value")) for q in c.find("properties")}
    assert 0 <= p["recall"] <= 1 and 0 <= p["precision"] <= 1 and 0 <= p["f1"] <= 1, p
# lxml parses it too (strict parser) and finds the same number of cases.
assert len(etree.parse(sys.argv[1]).xpath("//testcase")) == 7
print("JUnit: 7 cases, 1 failure, properties as expected")
PY
leftovers=$(find "$WORK/reports" -name '.*tmp*' | wc -l)
[ "$leftovers" -eq 0 ] || fail "temporary files left next to the JUnit report"
pass "JUnit report valid (xmllint, xml.etree, lxml), written atomically"

# A report that cannot be written fails every rank with one message naming the file.
eval_codes 2 junit_unwritable --junit "$WORK/no/such/dir/eval.xml"
expect_codes junit_unwritable 2 1
once junit_unwritable "^dptrain: error: .*no/such/dir/eval\.xml"
pass "unwritable JUnit path: exit 1 on every rank, one message"

# Regression: mse/mae/r2 and per-target gates; JUnit cases per target.
"$DPTRAIN" gen --out "$WORK/r.h5" --rows 800 --features 5 --targets 2 --noise 0.1 --seed 4 >/dev/null
run_mpi 1 train --data "$WORK/r.h5" --model linear --epochs 20 --batch 32 --lr 0.05 --progress off \
  --checkpoint "$WORK/lin.h5" >/dev/null
code=0
out=$(run_mpi 2 eval --model "$WORK/lin.h5" --data "$WORK/r.h5" --fail-under r2=0.5 --fail-over mse=1,mae.1=1 \
      --junit "$WORK/reg.xml" 2>&1) || code=$?
[ "$code" -eq 0 ] || { echo "$out" >&2; fail "regression gates: exit $code"; }
code=0
out=$(run_mpi 2 eval --model "$WORK/lin.h5" --data "$WORK/r.h5" --fail-under r2.1=0.99999 2>&1) || code=$?
[ "$code" -eq 1 ] || { echo "$out" >&2; fail "regression r2.1 gate: exit $code, expected 1"; }
grep -qE '^dptrain: FAIL: r2\.1 = 0\.[0-9]+ is under 0\.99999' <<<"$out" || fail "regression FAIL line: $out"
"$PYTHON" - "$WORK/reg.xml" <<'PY' || fail "regression JUnit"
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
names = [c.get("name") for c in suite.findall("testcase")]
assert names == ["r2 >= 0.5", "mse <= 1", "mae.1 <= 1", "target 0", "target 1"], names
assert suite.get("failures") == "0"
PY
pass "regression: r2/mse/mae gates and per-target JUnit cases"
