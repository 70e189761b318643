# An MLP solves concentric rings (3 classes by distance from the origin), which no linear
# model can: softmax regression stays near the majority-class rate. The accuracy gap is
# asserted from the --metrics files. Adam with tanh and local SGD (--sync params) converge too.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/train.h5" --rows 4000 --features 2 --classes 3 --pattern rings --seed 1 >/dev/null
"$DPTRAIN" gen --out "$WORK/val.h5" --rows 1000 --features 2 --classes 3 --pattern rings --seed 2 >/dev/null
common=(train --data "$WORK/train.h5" --val "$WORK/val.h5" --epochs 20 --batch 64 --seed 1 --progress off)

run_mpi 2 "${common[@]}" --model mlp:32,32 --optimizer momentum --lr 0.1 --lr-schedule cosine \
  --metrics "$WORK/mlp.jsonl" >/dev/null
run_mpi 2 "${common[@]}" --model softmax --optimizer momentum --lr 0.1 --lr-schedule cosine \
  --metrics "$WORK/softmax.jsonl" >/dev/null
mlp=$(metric "$WORK/mlp.jsonl" val_accuracy)
linear=$(metric "$WORK/softmax.jsonl" val_accuracy)
at_least "$mlp" 0.93 "mlp:32,32 (momentum, 2 ranks) validation accuracy on rings"
py "import sys; sys.exit(0 if $linear <= 0.6 else 1)" || fail "softmax should not solve rings: $linear > 0.6"
pass "softmax (linear) validation accuracy on rings: $linear <= 0.6"
gap=$(py "print($mlp - $linear)")
at_least "$gap" 0.3 "accuracy gap mlp - softmax"
first=$(metric "$WORK/mlp.jsonl" train_loss 1)
last=$(metric "$WORK/mlp.jsonl" train_loss)
py "import sys; sys.exit(0 if $last < 0.25 * $first else 1)" || fail "mlp train loss $first -> $last did not fall 4x"
pass "mlp train loss $first -> $last"

run_mpi 2 "${common[@]}" --model mlp:32,32 --activation tanh --optimizer adam --lr 0.01 \
  --lr-schedule cosine --warmup-epochs 1 --metrics "$WORK/adam.jsonl" >/dev/null
at_least "$(metric "$WORK/adam.jsonl" val_accuracy)" 0.93 "mlp:32,32 tanh (adam, warmup + cosine) validation accuracy"

# Local SGD: 3 ranks take 4 local steps (local momentum state) between parameter averages.
run_mpi 3 "${common[@]}" --model mlp:32,32 --optimizer momentum --lr 0.1 --lr-schedule cosine \
  --sync params --average-every 4 --metrics "$WORK/local.jsonl" >/dev/null
at_least "$(metric "$WORK/local.jsonl" val_accuracy)" 0.9 "mlp:32,32 local SGD (3 ranks, average every 4) validation accuracy"
