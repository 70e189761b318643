# Bad model and optimizer options fail before training, on every rank, with one message that
# names the option and what was expected.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/rings.h5" --rows 200 --features 2 --classes 3 --pattern rings --seed 1 >/dev/null
base=(train --data "$WORK/rings.h5" --epochs 1 --progress off)
expect_failure optimizer "error: --optimizer 'rmsprop': expected sgd, momentum, nesterov, adam, adamw or adagrad" 2 "${base[@]}" --optimizer rmsprop
expect_failure schedule "error: --lr-schedule 'linear': expected constant, step or cosine" 2 "${base[@]}" --lr-schedule linear
expect_failure momentum "error: --momentum 1.5: expected a value in \[0, 1\)" 2 "${base[@]}" --optimizer momentum --momentum 1.5
expect_failure activation "error: --activation 'gelu': expected relu, tanh or sigmoid" 2 "${base[@]}" --model mlp:8 --activation gelu
expect_failure hidden "error: --model 'mlp:8,x': hidden size 'x' is not a positive integer" 2 "${base[@]}" --model mlp:8,x
expect_failure bce_labels "label 2 in '/labels' is not a class id; expected an integer in \[0, 2\)" 2 "${base[@]}" --model mlp:8 --loss bce
expect_failure loss_mismatch "error: --loss mse does not fit --model softmax" 2 "${base[@]}" --model softmax --loss mse
