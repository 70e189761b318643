# scripts/run-local.sh picks ranks x threads from nproc and binds accordingly, which the run
# layout report shows; the report warns when ranks x threads exceed the CPUs or a rank's
# threads share fewer bound CPUs.
source "$(dirname "$0")/lib.sh"
export DPTRAIN
run_local=$SOURCE_DIR/scripts/run-local.sh
cpus=$(nproc)
"$DPTRAIN" gen --out "$WORK/data.h5" --rows 400 --features 6 --classes 2 --seed 1 >/dev/null
train=(train --data "$WORK/data.h5" --model logistic --epochs 1 --progress off)

# The command it builds (dry run), for the three binding cases.
cmd=$("$run_local" --dry-run "${train[@]}" 2>/dev/null)
[[ $cmd == *"-np $cpus "*"--map-by core --bind-to core -x OMP_NUM_THREADS=1 "*"train --threads 1 "* ]] ||
  fail "default should be $cpus rank(s) x 1 thread bound to cores: $cmd"
cmd=$("$run_local" --dry-run -n 1 "${train[@]}" 2>/dev/null)
if [ "$cpus" -ge 2 ]; then
  [[ $cmd == *"-np 1 "*"--map-by slot:PE=$cpus --bind-to core -x OMP_NUM_THREADS=$cpus "*"--threads $cpus "* ]] ||
    fail "-n 1 should give 1 rank x $cpus threads on $cpus cores: $cmd"
fi
cmd=$("$run_local" --dry-run -n $((cpus + 1)) -t 2 "${train[@]}" 2>/dev/null)
[[ $cmd == *"--oversubscribe --bind-to none -x OMP_NUM_THREADS=2 "* ]] || fail "oversubscribed run should not bind: $cmd"
expect_bad=$("$run_local" -n 0 "${train[@]}" 2>&1) && fail "-n 0 accepted"
[[ $expect_bad == *"'0' is not a positive count"* ]] || fail "-n 0: unclear error: $expect_bad"
pass "run-local.sh builds the mpirun binding flags for $cpus CPU(s)"

# Real runs: the layout report shows the binding run-local.sh asked for.
if [ "$cpus" -ge 2 ]; then
  "$run_local" -n 2 -t 1 "${train[@]}" >"$WORK/n2.out" 2>&1 || { cat "$WORK/n2.out" >&2; fail "run-local -n 2 failed"; }
  grep -q "run layout: 2 rank(s) on 1 host(s), 1 thread(s) per rank" "$WORK/n2.out" || fail "-n 2: no layout line"
  [ "$(grep -cE "^dptrain:   rank [01]: host .*, cpus [0-9]+ \(1 of $cpus\), 1 thread" "$WORK/n2.out")" -eq 2 ] ||
    { cat "$WORK/n2.out" >&2; fail "-n 2 -t 1: each rank should be bound to one CPU"; }
  grep -q warning "$WORK/n2.out" && fail "-n 2 -t 1: unexpected warning"
  "$run_local" -n 1 -t 2 "${train[@]}" >"$WORK/t2.out" 2>&1 || { cat "$WORK/t2.out" >&2; fail "run-local -t 2 failed"; }
  grep -qE "^dptrain:   rank 0: host .*, cpus [0-9,-]+ \(2 of $cpus\), 2 thread" "$WORK/t2.out" ||
    { cat "$WORK/t2.out" >&2; fail "-n 1 -t 2: the rank should be bound to 2 CPUs"; }
  pass "run-local.sh: 2x1 binds one CPU per rank, 1x2 binds two CPUs to the rank"

  # mpirun's default binding (one core per rank) with 2 threads: the report says so.
  "$MPIEXEC" -np 2 --bind-to core "$DPTRAIN" "${train[@]}" --threads 2 >"$WORK/bound.out" 2>&1
  grep -q "warning: rank 1 starts 2 threads but is bound to 1 CPU(s)" "$WORK/bound.out" ||
    { cat "$WORK/bound.out" >&2; fail "no warning for 2 threads on a rank bound to 1 CPU"; }
  pass "warns when a rank's threads share fewer bound CPUs"
fi
run_mpi 1 "${train[@]}" --threads $((cpus + 1)) >"$WORK/over.out" 2>&1
grep -q "is oversubscribed: 1 rank(s) start $((cpus + 1)) thread(s) in total on $cpus available CPU(s)" "$WORK/over.out" ||
  { cat "$WORK/over.out" >&2; fail "no oversubscription warning"; }
pass "warns when ranks x threads exceed the CPUs"
