# --sync grad on p ranks x t threads reproduces 1 rank x 1 thread: final parameters agree to
# 1e-5 relative, on a dataset whose row count (1001) is not divisible by 2, 3 or 4.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/data.h5" --rows 1001 --features 13 --classes 4 --noise 0.5 --seed 7
common=(train --data "$WORK/data.h5" --model softmax --epochs 4 --batch 64 --lr 0.5 --seed 3 --progress off)
run_mpi 1 "${common[@]}" --threads 1 --checkpoint "$WORK/ref.h5" >/dev/null
for np in 1 2 3 4; do
  for t in 1 2; do
    [ "$np$t" = "11" ] && continue
    run_mpi "$np" "${common[@]}" --threads "$t" --checkpoint "$WORK/p${np}t${t}.h5" >/dev/null
    params_close "$WORK/p${np}t${t}.h5" "$WORK/ref.h5" 1e-5 || fail "softmax p=$np t=$t differs from 1x1"
    pass "softmax p=$np t=$t matches 1x1"
  done
done
# A regression model with weight decay and momentum, too.
common=(train --data "$WORK/reg.h5" --model linear --epochs 3 --batch 50 --lr 0.05 --optimizer momentum
        --weight-decay 0.001 --seed 5 --progress off)
"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 1001 --features 9 --noise 0.1 --seed 8
run_mpi 1 "${common[@]}" --checkpoint "$WORK/reg-ref.h5" >/dev/null
for np in 2 3 4; do
  run_mpi "$np" "${common[@]}" --threads 2 --checkpoint "$WORK/reg-$np.h5" >/dev/null
  params_close "$WORK/reg-$np.h5" "$WORK/reg-ref.h5" 1e-5 || fail "linear p=$np t=2 differs from 1x1"
  pass "linear p=$np t=2 matches 1x1"
done
# Repeatability: the same command gives bitwise the same model every time (results must not
# depend on where the heap put a buffer: every buffer Eigen reads is 64-byte aligned).
args=(train --data "$WORK/data.h5" --model mlp:24,12 --epochs 2 --batch 32 --lr 0.1 --seed 3 --progress off)
for i in 1 2 3 4; do
  run_mpi 2 "${args[@]}" --threads 2 --checkpoint "$WORK/rep$i.h5" >/dev/null
  [ "$i" -eq 1 ] || params_close "$WORK/rep$i.h5" "$WORK/rep1.h5" 0 || fail "run $i differs from run 1"
done
pass "4 identical 2x2 MLP runs give bitwise identical parameters"
