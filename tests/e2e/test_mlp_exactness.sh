# MLP training with --sync grad on p ranks x t threads reproduces 1 rank x 1 thread: final
# parameters agree to 1e-4 relative, on 1001 rows (not divisible by 2, 3 or 4). Covers momentum
# with weight decay, a cosine schedule with warmup and gradient clipping; Adam (also with the
# update on the threads); and AdamW on a multi-output regression MLP.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/rings.h5" --rows 1001 --features 6 --classes 3 --pattern rings --seed 7 >/dev/null

check_grid() {  # NAME NP_LIST T_LIST ARGS... : every p x t run matches the 1 x 1 run
  local name=$1 nps=$2 ts=$3; shift 3
  run_mpi 1 "$@" --threads 1 --checkpoint "$WORK/$name-ref.h5" >/dev/null
  for np in $nps; do
    for t in $ts; do
      [ "$np$t" = "11" ] && continue
      run_mpi "$np" "$@" --threads "$t" --checkpoint "$WORK/$name-p${np}t${t}.h5" >/dev/null
      params_close "$WORK/$name-p${np}t${t}.h5" "$WORK/$name-ref.h5" 1e-4 || fail "$name p=$np t=$t differs from 1x1"
      pass "$name p=$np t=$t matches 1x1"
    done
  done
}

check_grid momentum "1 2 3 4" "1 2" train --data "$WORK/rings.h5" --model mlp:16,8 --epochs 3 --batch 64 \
  --optimizer momentum --momentum 0.9 --weight-decay 1e-3 --lr 0.05 --lr-schedule cosine --warmup-epochs 1 \
  --clip-norm 5 --seed 3 --progress off
check_grid adam "2 4" "2" train --data "$WORK/rings.h5" --model mlp:12 --activation tanh --epochs 3 \
  --batch 50 --optimizer adam --lr 0.01 --seed 4 --progress off

# Over 4096 parameters (4,803) a rank's threads share the optimizer's update (1 x 2: each
# thread its part; 2 x 2: the node exchange's fused update per thread), Adam's step count too.
check_grid adam-threads "1 2" "2" train --data "$WORK/rings.h5" --model mlp:64,64 --epochs 2 \
  --batch 64 --optimizer adam --lr 0.005 --seed 6 --progress off

"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 1001 --features 5 --targets 3 --noise 0.1 --seed 8 >/dev/null
check_grid adamw "3" "2" train --data "$WORK/reg.h5" --model mlp:10 --activation sigmoid --epochs 2 \
  --batch 40 --optimizer adamw --weight-decay 0.01 --lr 0.01 --seed 5 --progress off
