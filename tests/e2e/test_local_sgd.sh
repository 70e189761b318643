# --sync params (local SGD, averaging every K steps) converges on 2 and 4 ranks to nearly
# the accuracy of --sync grad.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/train.h5" --rows 6000 --features 20 --classes 5 --noise 0.2 --seed 4
"$DPTRAIN" gen --out "$WORK/val.h5" --rows 2000 --features 20 --classes 5 --noise 0.2 --seed 4
# Same teacher: gen draws the weights before the rows, so the same seed gives the same teacher.
common=(train --data "$WORK/train.h5" --val "$WORK/val.h5" --model softmax --epochs 8 --batch 128 --lr 0.5 --progress off)
run_mpi 2 "${common[@]}" --metrics "$WORK/grad.jsonl" >/dev/null
grad=$(metric "$WORK/grad.jsonl" val_accuracy)
at_least "$grad" 0.90 "sync grad val accuracy"
for np in 2 4; do
  run_mpi "$np" "${common[@]}" --sync params --average-every 8 --metrics "$WORK/local$np.jsonl" >/dev/null
  acc=$(metric "$WORK/local$np.jsonl" val_accuracy)
  at_least "$acc" "$("$PYTHON" -c "print($grad - 0.02)")" "local SGD on $np ranks val accuracy (sync grad: $grad)"
done
