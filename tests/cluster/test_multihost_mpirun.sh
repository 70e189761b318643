# dptrain across two emulated hosts (cluster_lib.sh) under mpirun: Open MPI's rsh launcher
# starts the ranks on h2 through the namespaces; ranks talk TCP, over the test interface only.
#  1. 2 hosts x 2 ranks equals 1 rank x 1 thread to float rounding (softmax, and an MLP with
#     2 threads per rank).
#  2. The run layout report names 2 hosts and the ranks on each.
#  3. A rank killed (SIGKILL) on h2 ends the job well within the stall timeout, with a message
#     naming the rank and h2; a rank that stalls on h2 is named with its host by the others.
#  4. A data file that exists on h1 only (node-local folder): one message naming the file, the
#     rank and host h2.
# Exits 77 (CTest: skipped) only when namespaces cannot be made here (no privilege); a missing
# tool is installed (iproute2) or fails the test.
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

skip_unless_hosts_can_be_made
finish() {
  local code=$?
  destroy_hosts
  rm -rf "$WORK"
  exit "$code"
}
trap finish EXIT
trap 'exit 143' INT TERM

make_hosts "$WORK/cluster" || fail "could not make the two emulated hosts"
pass "hosts h1 ($(cluster_host_address h1)) and h2 ($(cluster_host_address h2)) on veth $CLUSTER_IFACE," \
     "namespaces ${DPTRAIN_CLUSTER_ID}h1 and ${DPTRAIN_CLUSTER_ID}h2"

# --- 1. and 2. Exactness and the layout report.
"$DPTRAIN" gen --out "$WORK/data.h5" --rows 1001 --features 13 --classes 4 --noise 0.5 --seed 7 >/dev/null
softmax=(train --data "$WORK/data.h5" --model softmax --epochs 4 --batch 64 --lr 0.5 --seed 3 --progress off)
mlp=(train --data "$WORK/data.h5" --model mlp:24,12 --epochs 3 --batch 32 --lr 0.1 --seed 3 --progress off)
run_on h1 timeout 120 "$MPIEXEC" -np 1 "$DPTRAIN" "${softmax[@]}" --threads 1 --checkpoint "$WORK/softmax-1x1.h5" >/dev/null
run_on h1 timeout 120 "$MPIEXEC" -np 1 "$DPTRAIN" "${mlp[@]}" --threads 1 --checkpoint "$WORK/mlp-1x1.h5" >/dev/null

out=$(cluster_mpirun -np 4 "$DPTRAIN" "${softmax[@]}" --threads 1 --checkpoint "$WORK/softmax-2x2.h5" 2>&1) ||
  { echo "$out"; fail "softmax on 2 hosts x 2 ranks failed"; }
params_close "$WORK/softmax-2x2.h5" "$WORK/softmax-1x1.h5" 1e-5 || fail "softmax: 2 hosts x 2 ranks differs from 1x1"
pass "softmax: 2 hosts x 2 ranks (TCP) matches 1 rank x 1 thread"

layout=$(grep -E 'run layout|^dptrain:   rank|^  rank' <<<"$out" || true)
grep -q 'run layout: 4 rank(s) on 2 host(s)' <<<"$layout" || { echo "$out"; fail "no 'run layout: 4 rank(s) on 2 host(s)'"; }
for r in 0 1; do grep -qE "rank $r: host h1," <<<"$layout" || { echo "$layout"; fail "layout: rank $r not on h1"; }; done
for r in 2 3; do grep -qE "rank $r: host h2," <<<"$layout" || { echo "$layout"; fail "layout: rank $r not on h2"; }; done
pass "run layout report: 4 ranks on 2 hosts, ranks 0-1 on h1, 2-3 on h2"

out=$(cluster_mpirun -np 4 -x OMP_NUM_THREADS=2 "$DPTRAIN" "${mlp[@]}" --threads 2 --checkpoint "$WORK/mlp-2x2x2.h5" 2>&1) ||
  { echo "$out"; fail "MLP on 2 hosts x 2 ranks x 2 threads failed"; }
params_close "$WORK/mlp-2x2x2.h5" "$WORK/mlp-1x1.h5" 1e-5 || fail "MLP: 2 hosts x 2 ranks x 2 threads differs from 1x1"
pass "MLP: 2 hosts x 2 ranks x 2 threads matches 1 rank x 1 thread"

# --- 3. A rank dies or stalls on h2.
"$DPTRAIN" gen --out "$WORK/long.h5" --rows 4000 --features 8 --classes 3 --seed 9 >/dev/null
long=(train --data "$WORK/long.h5" --model softmax --epochs 50 --batch 20 --lr 0.1 --progress off)
stall_timeout=60  # far above the time a death takes to end the job: it is not the timeout that ends it
code=0
start=$SECONDS
out=$(DPTRAIN_FAULT="rank=3,step=30,kind=kill" cluster_mpirun -np 4 -x DPTRAIN_FAULT "$DPTRAIN" "${long[@]}" \
      --stall-timeout $stall_timeout 2>&1) || code=$?
elapsed=$((SECONDS - start))
[ "$code" -ne 124 ] || { echo "$out"; fail "kill -9 of rank 3 on h2: the job hung (killed after 120 s)"; }
[ "$code" -ne 0 ] || { echo "$out"; fail "kill -9 of rank 3 on h2: exit code 0"; }
[ "$elapsed" -lt "$stall_timeout" ] || { echo "$out"; fail "kill -9 of rank 3 on h2: the job took $elapsed s (stall timeout $stall_timeout s)"; }
named=$(grep -E "rank(\(s\))? 3 (with PID [0-9]+ )?on (node|host) h2" <<<"$out" || true)
[ -n "$named" ] || { echo "$out"; fail "kill -9 of rank 3 on h2: no message names rank 3 and host h2"; }
pass "kill -9 of rank 3 on h2: job ended in $elapsed s (exit $code): $named"

code=0
start=$SECONDS
out=$(DPTRAIN_FAULT="rank=3,step=30,kind=stall" cluster_mpirun -np 4 -x DPTRAIN_FAULT "$DPTRAIN" "${long[@]}" \
      --stall-timeout 4 2>&1) || code=$?
elapsed=$((SECONDS - start))
[ "$code" -ne 124 ] || { echo "$out"; fail "stall of rank 3 on h2: the job hung"; }
pattern="^dptrain: error: rank 0 on host h1 waited [0-9]+ s in '[a-z ]+' \(--stall-timeout 4\); rank\(s\) 3 on host h2 did not arrive"
count=$(grep -cE "$pattern" <<<"$out" || true)
[ "$count" -eq 1 ] || { echo "$out"; fail "stall of rank 3 on h2: expected /$pattern/ once, saw it $count times"; }
pass "stall of rank 3 on h2 reported in $elapsed s (exit $code): $(grep -E "$pattern" <<<"$out")"

# --- 4. A file only one host has: the data in h1's node-local folder, not in h2's.
cp "$WORK/data.h5" "$WORK/cluster/hosts/h1/local/train.h5"
code=0
out=$(cluster_mpirun -np 4 "$DPTRAIN" train --data "$WORK/cluster/local/train.h5" --model softmax --epochs 1 \
      --progress off 2>&1) || code=$?
[ "$code" -ne 124 ] || { echo "$out"; fail "data missing on h2: the job hung"; }
[ "$code" -ne 0 ] || { echo "$out"; fail "data missing on h2: exit code 0"; }
errors=$(grep -c 'error' <<<"$out" || true)
pattern="^dptrain: error: .*$WORK/cluster/local/train.h5.* \[rank 2 on host h2\]$"
[ "$errors" -eq 1 ] && grep -qE "$pattern" <<<"$out" ||
  { echo "$out"; fail "data missing on h2: expected exactly one error line matching /$pattern/"; }
pass "data file missing on h2 only (exit $code): $(grep error <<<"$out")"
