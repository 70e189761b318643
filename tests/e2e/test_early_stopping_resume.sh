# --early-stopping's state (best value, best epoch, patience counter, and with --keep-best the
# best parameters) travels in every checkpoint: a run resumed from the checkpoint of the epoch
# before the stop stops after the same epoch as the uninterrupted run and keeps the same model.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
# The data and options of test_early_stopping.sh: validation loss turns up after a few epochs.
"$DPTRAIN" gen --out d.h5 --rows 300 --features 20 --classes 3 --noise 2.0 --seed 1 >/dev/null
train=(train --data d.h5 --val-fraction 0.5 --seed 7 --model mlp:64 --lr 0.2 --epochs 40 --batch 10 --progress off
       --early-stopping 3 --keep-best)

run_mpi 2 "${train[@]}" --checkpoint-dir full --checkpoint-every 1 --keep-last 100 --checkpoint full.h5 >full.log
stop=$(grep -o "early stopping after epoch [0-9]*" full.log | grep -o "[0-9]*$") || { cat full.log; fail "no early stop"; }
best=$(grep -o "keeping the best epoch's model: epoch [0-9]*" full.log | grep -o "[0-9]*$")
[ $((stop - best)) -eq 3 ] || fail "stop $stop, best $best: expected patience 3"
# The checkpoint of epoch stop-1 is two epochs past the best: the counter stands at 2.
ckpt=$(ls full/ckpt-e$(printf %05d $((stop - 1)))-s*.h5)
state=$(py "
import h5py
f = h5py.File('$ckpt', 'r')
assert type(f.attrs['early_stopping_metric']) is str
print(*f.attrs['early_stopping'], f['early_stopping/best_params'].shape[0] == f['params'].shape[0])")
[ "$state" = "$best 2 True" ] || fail "$ckpt: early_stopping state '$state', expected '$best 2 True'"
pass "uninterrupted: stopped after epoch $stop (best epoch $best); $ckpt holds best epoch, counter 2 and best params"

run_mpi 2 "${train[@]}" --resume "$ckpt" --checkpoint resumed.h5 >resumed.log
grep -q "early stopping continues from the checkpoint: best val_loss [0-9.]* at epoch $best, 2 epoch(s) since" resumed.log ||
  { cat resumed.log; fail "no line about the resumed early-stopping state"; }
grep -q "early stopping after epoch $stop: val_loss has not improved for 3 epoch(s)" resumed.log ||
  { cat resumed.log; fail "the resumed run did not stop after epoch $stop"; }
grep -q "keeping the best epoch's model: epoch $best" resumed.log || fail "resumed: no keep-best line for epoch $best"
params_close resumed.h5 full.h5 1e-6 || fail "the resumed run's kept model differs from the uninterrupted one's"
pass "resumed from epoch $((stop - 1)): stopped after epoch $stop too, with the same best model"

# Another metric than the checkpoint's starts afresh, with a note.
run_mpi 1 "${train[@]}" --early-stopping-metric val_acc --resume "$ckpt" --epochs $((stop + 1)) >acc.log
grep -q "early stopping starts afresh: the checkpoint watched val_loss, this run val_acc" acc.log ||
  { cat acc.log; fail "no note when the metric changes"; }
pass "another --early-stopping-metric starts the count afresh"

# A checkpoint of a run without --keep-best holds no best parameters: --keep-best starts afresh.
run_mpi 1 "${train[@]:0:${#train[@]}-1}" --checkpoint-dir plain --checkpoint-every 1 --epochs 2 >/dev/null
run_mpi 1 "${train[@]}" --resume plain --epochs 3 >plain.log
grep -q "early stopping starts afresh: the checkpoint holds no best parameters for --keep-best" plain.log ||
  { cat plain.log; fail "no note when the checkpoint has no best parameters"; }
pass "--keep-best after a checkpoint without best parameters starts the count afresh"
