# The process defaults dptrain sets for itself (src/cli/runtime_defaults.cpp): GOMP_SPINCOUNT=10000
# unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT (libgomp must see it, under mpirun too),
# and malloc settings under which warm GEMMs take no page faults.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 200 --features 8 --classes 3 --seed 1 >/dev/null
args=(train --data "$WORK/d.h5" --model mlp:8 --epochs 1 --batch 32 --threads 2 --progress off)

out=$(OMP_DISPLAY_ENV=verbose "$MPIEXEC" -np 2 --bind-to none -x OMP_DISPLAY_ENV "$DPTRAIN" "${args[@]}" 2>&1)
seen=$(grep -c "GOMP_SPINCOUNT = '10000'" <<<"$out" || true)
[ "$seen" -eq 2 ] || { echo "$out" | grep -i spincount >&2; fail "libgomp saw GOMP_SPINCOUNT=10000 on $seen of 2 ranks"; }
grep -q "epoch 1" <<<"$out" || { echo "$out" >&2; fail "training did not run after the re-execution"; }
pass "both ranks' libgomp run with GOMP_SPINCOUNT=10000 by default, and train"

out=$(OMP_DISPLAY_ENV=verbose GOMP_SPINCOUNT=777 "$MPIEXEC" -np 1 -x OMP_DISPLAY_ENV -x GOMP_SPINCOUNT "$DPTRAIN" "${args[@]}" 2>&1)
grep -q "GOMP_SPINCOUNT = '777'" <<<"$out" && ! grep -q "GOMP_SPINCOUNT = '10000'" <<<"$out" ||
  { echo "$out" | grep -i spincount >&2; fail "a user's GOMP_SPINCOUNT was not kept"; }
pass "a user's GOMP_SPINCOUNT is kept"

faults() { "$PYTHON" -c "import json,sys; print(json.loads(sys.argv[1])['page_faults_per_rep'])" "$1"; }
mine=$(faults "$("$DPTRAIN" bench --model mlp:256,128 --rows 128 --seconds 0.3)")
glibc=$(faults "$(DPTRAIN_SYSTEM_MALLOC=1 "$DPTRAIN" bench --model mlp:256,128 --rows 128 --seconds 0.3)")
py "import sys; sys.exit(0 if float('$mine') < 1 else 1)" || fail "warm GEMMs take $mine page faults per step's products (expected < 1)"
pass "warm GEMMs of a step take $mine page faults per repetition (glibc's own malloc defaults: $glibc)"
