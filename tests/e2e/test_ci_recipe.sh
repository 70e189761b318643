# The README recipe "a golden run in your repository", run exactly as written: its blocks are
# copied out of README.md into a scratch repository; the golden files are made as the README
# says; then the check step of the GitHub Actions snippet and the script step of the GitLab CI
# snippet run with only the environment those snippets set (no OMPI_* from the test: we are
# root, so mpirun starts only if the snippets get it right). The build steps of the snippets
# (install-deps.sh, build.sh) are replaced by this build: third_party/dptrain/build is a link to
# it. Then a golden file from another run must make the check fail.
source "$(dirname "$0")/lib.sh"

repo=$WORK/repo
mkdir -p "$repo/third_party/dptrain"
ln -s "$(cd "$(dirname "$DPTRAIN")" && pwd)" "$repo/third_party/dptrain/build"
git -C "$repo" init -q

# Every block after a "<!-- recipe: PATH -->" line becomes the file PATH in the repository.
"$PYTHON" - "$SOURCE_DIR/README.md" "$repo" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"<!-- recipe: (\S+) -->\n```[a-z]*\n(.*?)```\n", text, re.S)
names = [n for n, _ in blocks]
want = ["ci/reference-job.sh", "make-golden.sh", "ci/check-model.sh", ".github/workflows/model.yml", ".gitlab-ci.yml"]
assert names == want, names
for name, body in blocks:
    path = os.path.join(sys.argv[2], name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(body)
print("recipe blocks:", ", ".join(names))
PY

# The snippets' environment and the command of their check step, one "KEY=VALUE" per line and
# the command last.
"$PYTHON" - "$repo" <<'PY' || fail "CI snippets"
import sys, yaml
repo = sys.argv[1]
gh = yaml.safe_load(open(f"{repo}/.github/workflows/model.yml"))
job = gh["jobs"]["golden"]
assert job["container"].startswith("debian"), job["container"]
steps = [s for s in job["steps"] if "check-model.sh" in s.get("run", "")]
assert len(steps) == 1, steps
gl = yaml.safe_load(open(f"{repo}/.gitlab-ci.yml"))["model-golden"]
scripts = [s for s in gl["script"] if "check-model.sh" in s]
assert len(scripts) == 1, gl["script"]
assert gl["artifacts"]["reports"]["junit"] == "out/eval-junit.xml"
assert [s for s in job["steps"] if s.get("with", {}).get("path") == "out/eval-junit.xml"]
for name, env, command in [("github", job["env"], steps[0]["run"]), ("gitlab", gl["variables"], scripts[0])]:
    env = {k: str(v) for k, v in env.items() if k.startswith("OMPI_")}
    assert env.get("OMPI_ALLOW_RUN_AS_ROOT") == "1" and env.get("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM") == "1", env
    with open(f"{repo}/{name}.env", "w") as f:
        for k, v in env.items(): f.write(f"{k}={v}\n")
    open(f"{repo}/{name}.step", "w").write(command)
print("snippets: root variables set, one check step each, JUnit report kept")
PY

# run_step ENVFILE COMMAND... : COMMAND in the repository with a clean Open MPI environment plus
# the snippet's variables.
run_step() {
  local envfile=$1; shift
  (
    cd "$repo"
    unset OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_rmaps_base_oversubscribe HDF5_USE_FILE_LOCKING
    while IFS='=' read -r key value; do export "$key=$value"; done <"$envfile"
    "$@"
  )
}

# Without the snippet's variables, mpirun refuses to run as root: the check proves they matter.
if [ "$(id -u)" -eq 0 ]; then
  code=0
  out=$(run_step /dev/null env PATH="$repo/third_party/dptrain/build:$PATH" bash ci/reference-job.sh 1 "$WORK/noenv" 2>&1) || code=$?
  [ "$code" -ne 0 ] && grep -q "run as root" <<<"$out" || fail "mpirun ran as root without the variables (exit $code)"
  pass "as root, mpirun refuses to start without the snippets' variables"
fi

# Make the golden files as the README says (dptrain on PATH, as on a workstation).
run_step "$repo/github.env" env PATH="$repo/third_party/dptrain/build:$PATH" bash make-golden.sh >"$WORK/golden.out" 2>&1 \
  || { cat "$WORK/golden.out" >&2; fail "make-golden.sh"; }
[ -s "$repo/golden/model.h5" ] && [ -s "$repo/golden/metrics.jsonl" ] || fail "no golden files"
staged=$(git -C "$repo" diff --cached --name-only | tr '\n' ' ')
[ "$staged" = "ci/check-model.sh ci/reference-job.sh golden/metrics.jsonl golden/model.h5 " ] || fail "staged: $staged"
pass "golden files made and staged: $staged"

for ci in github gitlab; do
  rm -rf "$repo/out" "$repo/data"
  code=0
  run_step "$repo/$ci.env" bash -c "$(cat "$repo/$ci.step")" >"$WORK/$ci.out" 2>&1 || code=$?
  [ "$code" -eq 0 ] || { cat "$WORK/$ci.out" >&2; fail "$ci check step: exit $code"; }
  n=$(grep -c '^result: PASS: all [0-9]* values are bitwise identical' "$WORK/$ci.out" || true)
  [ "$n" -eq 3 ] || { cat "$WORK/$ci.out" >&2; fail "$ci: $n bitwise-identical checkpoints, expected 3 (1, 2, 3 ranks)"; }
  n=$(grep -c '^result: PASS: all [0-9]* values are identical' "$WORK/$ci.out" || true)
  [ "$n" -eq 3 ] || fail "$ci: $n identical metrics files, expected 3"
  grep -qE '^dptrain: PASS: accuracy = 0\.[0-9]+ >= 0\.88' "$WORK/$ci.out" || fail "$ci: no accuracy gate line"
  xmllint --noout "$repo/out/eval-junit.xml" || fail "$ci: JUnit report not valid XML"
  "$PYTHON" -c '
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
assert s.get("tests") == "5" and s.get("failures") == "0", s.attrib' "$repo/out/eval-junit.xml" || fail "$ci: JUnit content"
  pass "$ci: golden reproduced bitwise on 1, 2, 3 ranks, metrics identical, accuracy gate met, JUnit report valid"
done

# A golden model from another run (one more epoch) must fail the check, with exit code 1.
run_step "$repo/github.env" mpirun -np 2 "$DPTRAIN" train --data data/train.h5 --model mlp:16,16 --epochs 6 --batch 64 \
  --lr 0.05 --optimizer momentum --seed 7 --deterministic --progress off --checkpoint golden/model.h5 >/dev/null 2>&1
rm -rf "$repo/out"
code=0
run_step "$repo/github.env" bash -c "$(cat "$repo/github.step")" >"$WORK/tampered.out" 2>&1 || code=$?
[ "$code" -eq 1 ] || { cat "$WORK/tampered.out" >&2; fail "check against another golden model: exit $code, expected 1"; }
grep -q '^DIFFERENT: training states differ' "$WORK/tampered.out" || fail "no DIFFERENT line for the other golden"
grep -q '^result: FAIL' "$WORK/tampered.out" || fail "no FAIL result for the other golden"
pass "a golden model from another run fails the check (exit 1)"
