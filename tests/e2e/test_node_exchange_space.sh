# The node exchange when its shared memory does not fit (a container's 64 MiB /dev/shm): Open MPI
# 4 would leave the ranks waiting inside MPI_Win_allocate_shared for ever, so the ranks check the
# backing directory's free space first and agree to use the MPI allreduce instead, saying why;
# the result is bitwise the MPI path's. A 2 MiB tmpfs stands for the small /dev/shm (mounted for
# the test: needs root; exit 77 = skipped otherwise) and Open MPI is pointed at it.
source "$(dirname "$0")/lib.sh"
SHM=$WORK/shm
mkdir -p "$SHM"
if ! mount -t tmpfs -o size=2m tmpfs "$SHM" 2>"$WORK/mount.err"; then
  echo "SKIP: cannot mount a 2 MiB tmpfs to stand for a small /dev/shm ($(cat "$WORK/mount.err")); needs root"
  exit 77
fi
trap 'umount "$SHM" 2>/dev/null; rm -rf "$WORK"' EXIT

# mlp:256,128 on 784 features: 235,146 parameters, about 4 MiB of windows on 2 ranks.
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 512 --features 784 --classes 10 --seed 4 >/dev/null
args=(train --data "$WORK/d.h5" --model mlp:256,128 --epochs 2 --batch 64 --lr 0.05 --optimizer momentum
      --progress off --seed 2)
run_mpi 2 "${args[@]}" --exchange mpi --overlap off --checkpoint "$WORK/mpi.h5" >/dev/null

for exchange in node-shm auto; do
  code=0
  OMPI_MCA_osc_sm_backing_directory=$SHM timeout 60 "$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" "${args[@]}" \
    --exchange "$exchange" --checkpoint "$WORK/$exchange.h5" >"$WORK/$exchange.out" 2>&1 || code=$?
  [ "$code" -ne 124 ] || fail "$exchange: hung allocating the shared window (timeout)"
  [ "$code" -eq 0 ] || { cat "$WORK/$exchange.out" >&2; fail "$exchange: exit $code"; }
  if [ "$exchange" = node-shm ]; then
    expected="^dptrain: warning: --exchange node-shm: the shared-memory window needs [0-9.]+ MiB in $SHM, which has 2\.0 MiB free .*; the gradient goes through MPI instead$"
  else
    expected="^dptrain: gradient exchange: MPI \(no node shared memory: the shared-memory window needs [0-9.]+ MiB in $SHM, which has 2\.0 MiB free"
  fi
  grep -qE "$expected" "$WORK/$exchange.out" || { cat "$WORK/$exchange.out" >&2; fail "$exchange: no message naming the space"; }
  if grep -q "node shared memory (2 ranks" "$WORK/$exchange.out"; then fail "$exchange: took the node exchange"; fi
  params_close "$WORK/$exchange.h5" "$WORK/mpi.h5" 0 || fail "$exchange: the fallback differs from the MPI path"
  pass "--exchange $exchange with 2 MiB of shared memory: says why and falls back to MPI, bitwise the same"
done

# With enough room the same run takes the node exchange (the check does not refuse it).
out=$(OMPI_MCA_osc_sm_backing_directory=/dev/shm run_mpi 2 "${args[@]}" --exchange node-shm 2>&1)
grep -q "gradient exchange: node shared memory (2 ranks on one node" <<<"$out" \
  || { echo "$out" >&2; fail "with /dev/shm the run did not take the node exchange"; }
pass "with room in /dev/shm the node exchange is taken"
