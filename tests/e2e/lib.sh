# Shared helpers for end-to-end tests: the real dptrain binary under real mpirun.
# CTest sets DPTRAIN, MPIEXEC and SOURCE_DIR; run by hand, they default to the usual build.
set -euo pipefail
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DPTRAIN=${DPTRAIN:-$SOURCE_DIR/build/dptrain}
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HDF5_USE_FILE_LOCKING=FALSE
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# run_mpi NP ARGS... : dptrain on NP ranks (no binding, so threads can spread), no progress line
run_mpi() {
  local np=$1; shift
  "$MPIEXEC" -np "$np" --bind-to none "$DPTRAIN" "$@"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

# expect_failure NAME EXPECTED_REGEX NP ARGS... : the run must exit non-zero within 60 s,
# without a crash (SIGSEGV, SIGABRT, SIGFPE, SIGBUS), and print the expected message exactly
# once. EXPECT_CODE=N also requires exit code N.
expect_failure() {
  local name=$1 pattern=$2 np=$3; shift 3
  local out=$WORK/$name.out code=0
  timeout 60 "$MPIEXEC" -np "$np" --bind-to none "$DPTRAIN" "$@" >"$out" 2>&1 || code=$?
  [ "$code" -ne 124 ] || fail "$name: hung (timeout)"
  [ "$code" -ne 0 ] || fail "$name: exit code 0, expected failure"
  case $code in 134|135|136|139) cat "$out" >&2; fail "$name: crashed (exit $code)" ;; esac
  [ -z "${EXPECT_CODE:-}" ] || [ "$code" -eq "$EXPECT_CODE" ] || { cat "$out" >&2; fail "$name: exit $code, expected $EXPECT_CODE"; }
  local count
  count=$(grep -cE -- "$pattern" "$out" || true)
  [ "$count" -eq 1 ] || { cat "$out" >&2; fail "$name: expected message /$pattern/ once, saw it $count times"; }
  pass "$name (exit $code): $(grep -E -- "$pattern" "$out")"
}

# py CODE : run a Python snippet with h5py/numpy available (Debian's python3).
py() { "$PYTHON" -c "$1"; }

# params_close A.h5 B.h5 TOL : max |a-b| <= TOL * max |b| over /params.
params_close() {
  "$PYTHON" - "$1" "$2" "$3" <<'PY'
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["params"][...].astype(np.float64)
b = h5py.File(sys.argv[2], "r")["params"][...].astype(np.float64)
tol = float(sys.argv[3])
rel = np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)
print(f"max relative difference {rel:.3g} (tolerance {tol:g})")
sys.exit(0 if a.shape == b.shape and rel <= tol else 1)
PY
}

# metric FILE KEY [EPOCH] : a value from a JSONL metrics file (last epoch by default).
metric() {
  "$PYTHON" - "$@" <<'PY'
import sys, json
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
row = rows[int(sys.argv[3]) - 1] if len(sys.argv) > 3 else rows[-1]
print(row[sys.argv[2]])
PY
}

# at_least VALUE MIN MESSAGE
at_least() {
  "$PYTHON" -c "import sys; sys.exit(0 if float('$1') >= float('$2') else 1)" || fail "$3: $1 < $2"
  pass "$3: $1 >= $2"
}
