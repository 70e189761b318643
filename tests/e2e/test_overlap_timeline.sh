# --overlap on (gradient buckets sent during backprop) trains the same model as --overlap off,
# and --timeline writes a Chrome trace with one track per rank and the expected spans.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 2001 --features 300 --classes 5 --seed 2
# --exchange mpi: overlap is a property of the MPI allreduce path (the node exchange has its own test).
args=(train --data "$WORK/d.h5" --model mlp:300,64 --epochs 2 --batch 128 --lr 0.05 --optimizer momentum --progress off
  --exchange mpi)
for np in 2 3; do
  run_mpi "$np" "${args[@]}" --overlap on --checkpoint "$WORK/on$np.h5" >/dev/null
  run_mpi "$np" "${args[@]}" --overlap off --checkpoint "$WORK/off$np.h5" >/dev/null
  params_close "$WORK/on$np.h5" "$WORK/off$np.h5" 1e-5 || fail "--overlap on and off differ on $np ranks"
  pass "--overlap on matches --overlap off on $np ranks"
done
run_mpi 3 "${args[@]}" --threads 2 --timeline "$WORK/trace.json" --val "$WORK/d.h5" \
  --checkpoint-dir "$WORK/ck" >/dev/null
"$PYTHON" - "$WORK/trace.json" <<'PY' || fail "timeline is not a valid Chrome trace with the expected spans"
import json, sys
trace = json.load(open(sys.argv[1]))
events = trace["traceEvents"]
spans = [e for e in events if e["ph"] == "X"]
ranks = sorted({e["pid"] for e in spans})
names = {e["name"] for e in spans}
need = {"read", "forward/backward", "allreduce wait", "update", "validation", "checkpoint"}
assert ranks == [0, 1, 2], ranks
assert need <= names, names
steps = [e for e in spans if e["pid"] == 1 and e["name"] == "forward/backward"]
assert len(steps) == 2 * 16, len(steps)  # 2 epochs x ceil(2001 / 128) steps
assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
print(f"{len(spans)} spans on ranks {ranks}: {sorted(names)}")
PY
pass "timeline has every rank and every kind of span"
