#!/usr/bin/env bash
# Parameters before and after a refactoring: `record DIR` saves, with the current binary,
# the final parameters of fixed-seed runs (sync-grad MLP on 3 ranks with overlap on, off and
# --deterministic; local-SGD Adam on 2 ranks) and a training-state checkpoint. `compare DIR`
# reruns them with the current binary and checks every parameter to TOL relative (default
# 1e-5), and resumes the recorded checkpoint to the recorded end.
# Usage: DPTRAIN=build/dptrain scripts/check_baseline.sh record|compare DIR [TOL]
set -euo pipefail
mode=$1 dir=$2 tol=${3:-1e-5}
root=$(cd "$(dirname "$0")/.." && pwd)
DPTRAIN=${DPTRAIN:-$root/build/dptrain}
MPIEXEC=${MPIEXEC:-mpiexec}
PYTHON=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HDF5_USE_FILE_LOCKING=FALSE
work=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-baseline.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir"
out=$dir
[ "$mode" = compare ] && out=$work

"$DPTRAIN" gen --out "$work/rings.h5" --rows 1001 --features 6 --classes 3 --pattern rings --seed 7 >/dev/null
run() {  # NP NAME ARGS...
  local np=$1 name=$2; shift 2
  "$MPIEXEC" -np "$np" --bind-to none "$DPTRAIN" train --data "$work/rings.h5" --progress off \
    --checkpoint "$out/$name.h5" "$@" >"$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
}
grad=(--model mlp:16,8 --epochs 3 --batch 64 --optimizer momentum --momentum 0.9 --weight-decay 1e-3
      --lr 0.05 --lr-schedule cosine --warmup-epochs 1 --clip-norm 5 --seed 3 --threads 2)
local_sgd=(--model mlp:12 --activation tanh --epochs 3 --batch 50 --optimizer adam --lr 0.01 --seed 4
           --sync params --average-every 4)
run 3 grad-overlap "${grad[@]}" --overlap on
run 3 grad-whole "${grad[@]}" --overlap off
run 2 local-sgd-adam "${local_sgd[@]}"

if [ "$mode" = record ]; then
  # The deterministic run also keeps its training state after epoch 1 of 3, to resume later.
  run 3 grad-deterministic "${grad[@]}" --deterministic --checkpoint-dir "$work/ck" --checkpoint-every 1epochs
  cp "$(ls "$work"/ck/ckpt-e00001-*.h5)" "$dir/old-checkpoint.h5"
  echo "recorded in $dir: $(ls "$dir" | tr '\n' ' ')"
  exit 0
fi
run 3 grad-deterministic "${grad[@]}" --deterministic
# Resume the old checkpoint for epochs 2 and 3: it must end where the old run ended.
mkdir -p "$work/ck"
cp "$dir/old-checkpoint.h5" "$work/ck/ckpt-e00001-s0000000016.h5"  # its name in the old run
run 3 grad-deterministic-resumed "${grad[@]}" --deterministic --checkpoint-dir "$work/ck" --resume auto
grep -q "resumed from" "$work/grad-deterministic-resumed.log" || { cat "$work/grad-deterministic-resumed.log"; exit 1; }

status=0
for name in grad-overlap grad-whole grad-deterministic local-sgd-adam grad-deterministic-resumed; do
  reference=$dir/${name%-resumed}.h5
  "$PYTHON" - "$work/$name.h5" "$reference" "$tol" "$name" <<'PY' || status=1
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["params"][...].astype(np.float64)
b = h5py.File(sys.argv[2], "r")["params"][...].astype(np.float64)
tol = float(sys.argv[3])
rel = np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30) if a.shape == b.shape else float("inf")
ok = rel <= tol
print(f"{'PASS' if ok else 'FAIL'}: {sys.argv[4]}: {a.size} parameters, max relative difference {rel:.3g} (tolerance {tol:g})")
sys.exit(0 if ok else 1)
PY
done
exit $status
