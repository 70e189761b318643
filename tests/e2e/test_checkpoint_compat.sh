# Checkpoints written before the training loop was restructured (dptrain 0.1, format 1) still
# resume: tests/fixtures holds the epoch-1 checkpoint of a 3-epoch run (3 ranks x 2 threads,
# --deterministic, momentum, cosine schedule) and that run's final model, both written by the
# old code. Resuming the checkpoint on 3 ranks must end at the old final parameters.
source "$(dirname "$0")/lib.sh"
fixtures=$SOURCE_DIR/tests/fixtures
"$DPTRAIN" gen --out "$WORK/rings.h5" --rows 1001 --features 6 --classes 3 --pattern rings --seed 7 >/dev/null
mkdir -p "$WORK/ck"
cp "$fixtures/v0.1-ckpt-e00001-s0000000016.h5" "$WORK/ck/ckpt-e00001-s0000000016.h5"
run_mpi 3 train --data "$WORK/rings.h5" --progress off --model mlp:16,8 --epochs 3 --batch 64 \
  --optimizer momentum --momentum 0.9 --weight-decay 1e-3 --lr 0.05 --lr-schedule cosine --warmup-epochs 1 \
  --clip-norm 5 --seed 3 --threads 2 --deterministic --checkpoint-dir "$WORK/ck" --resume auto \
  --checkpoint "$WORK/resumed.h5" >"$WORK/resume.log" 2>&1 || { cat "$WORK/resume.log"; fail "resume failed"; }
grep -q "resumed from $WORK/ck/ckpt-e00001-s0000000016.h5 at epoch 2, step 0" "$WORK/resume.log" ||
  { cat "$WORK/resume.log"; fail "no resume message"; }
params_close "$WORK/resumed.h5" "$fixtures/v0.1-final.h5" 1e-5 || fail "the resumed run does not end at the old run's parameters"
pass "a dptrain 0.1 checkpoint resumes and ends where the old run ended"
