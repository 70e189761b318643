# --deterministic: final parameters bitwise identical for (p, t) in {(1,1),(2,1),(3,2),(4,1)},
# for softmax and an MLP, with a row count divisible by none of them.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 1001 --features 12 --classes 4 --seed 3
for model in softmax mlp:16,8; do
  args=(train --data "$WORK/d.h5" --model "$model" --epochs 3 --batch 64 --lr 0.1 --optimizer momentum
        --deterministic --progress off)
  run_mpi 1 "${args[@]}" --checkpoint "$WORK/ref.h5" >/dev/null
  for pt in "2 1" "3 2" "4 1"; do
    set -- $pt
    run_mpi "$1" "${args[@]}" --threads "$2" --checkpoint "$WORK/p$1t$2.h5" >/dev/null
    params_close "$WORK/p$1t$2.h5" "$WORK/ref.h5" 0 || fail "$model p=$1 t=$2 not bitwise equal to 1x1"
    pass "$model p=$1 t=$2 bitwise equal to 1x1"
  done
done
