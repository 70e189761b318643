# Raw text end to end: label<TAB>text lines (class names) -> convert --from text (hashed
# unigrams+bigrams into 2^20 CSR columns, settings stored as attributes) -> softmax + AdaGrad
# on 2 ranks (and resumed from a checkpoint) -> predict --stdin --text answers raw text lines as
# predict does the HDF5 rows; the model stores the settings, so predict --stdin alone does too.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$PYTHON" "$SOURCE_DIR/scripts/gen_text.py" docs.txt --docs 2000 --classes 5 --vocab 20000 --seed 4
out=$("$DPTRAIN" convert --from text -i docs.txt -o docs.h5)
grep -q "wrote 2000 rows x 1048576 features" <<<"$out" || fail "convert --from text: $out"
pass "$out"
py "
import h5py
f = h5py.File('docs.h5'); X = f['features']
assert X.attrs['encoding-type'] in ('csr_matrix', b'csr_matrix')
assert int(X.attrs['text-ngrams'][0]) == 2 and int(X.attrs['text-hash-bits'][0]) == 20
names = X.attrs  # the label names, in id order
n = list(f['labels'].attrs['classes'])
assert n == ['topic00', 'topic01', 'topic02', 'topic03', 'topic04'], n
row = X['indptr'][1]; v = X['data'][:row]
assert abs((v ** 2).sum() - 1) < 1e-5  # L2-normalised rows
" || fail "attributes or values of docs.h5"
pass "settings, class names and unit-norm rows stored"

args=(train --data docs.h5 --model softmax --optimizer adagrad --lr 0.5 --batch 128 --val-fraction 0.25 --progress off)
run_mpi 2 "${args[@]}" --epochs 4 --checkpoint model.h5 --metrics m.jsonl >/dev/null 2>&1
at_least "$(metric m.jsonl val_accuracy)" 0.8 "validation accuracy from raw text"
# Stopped after 2 epochs and resumed (the AdaGrad accumulators travel in the checkpoint): the same model.
run_mpi 2 "${args[@]}" --epochs 2 --checkpoint-dir ck >/dev/null 2>&1
run_mpi 2 "${args[@]}" --epochs 4 --checkpoint-dir ck --resume auto --checkpoint resumed.h5 >/dev/null 2>&1
params_close resumed.h5 model.h5 0 || fail "resumed CSR training differs from the uninterrupted run"
pass "resumed from the epoch-2 checkpoint: bitwise the uninterrupted model"

# Raw text on stdin (without the labels) gets the predictions of the converted rows.
head -50 docs.txt | cut -f2 >lines.txt
"$DPTRAIN" predict --model model.h5 --stdin --text docs.h5 <lines.txt >stdin.csv
[ "$(wc -l <stdin.csv)" -eq 50 ] || fail "predict --stdin --text answered $(wc -l <stdin.csv) of 50 lines"
run_mpi 1 predict --model model.h5 --data docs.h5 --out all.csv >/dev/null
py "
import numpy as np
a = np.loadtxt('stdin.csv', delimiter=','); b = np.loadtxt('all.csv', delimiter=',', skiprows=1)[:50]
assert (a[:, 0] == b[:, 0]).all() and np.abs(a - b).max() < 1e-5, np.abs(a - b).max()
" || fail "predict --stdin --text differs from predict on the converted file"
pass "predict --stdin --text on raw lines equals predict on the converted rows"
# The model keeps the text settings of its training data: --stdin takes raw text without the data file.
py "
import h5py
a = h5py.File('model.h5').attrs
assert int(a['text-ngrams'][0]) == 2 and int(a['text-hash-bits'][0]) == 20, dict(a)
" || fail "the model file does not carry the text settings"
"$DPTRAIN" predict --model model.h5 --stdin <lines.txt >stdin_model.csv
cmp -s stdin_model.csv stdin.csv || fail "predict --stdin with the model's own text settings differs from --text docs.h5"
pass "predict --stdin on raw lines with the settings stored in the model equals --text docs.h5"
expect_failure text_needs_settings "has no attribute 'text-tokens'; expected a file written by dptrain convert --from text" 1 \
  predict --model model.h5 --stdin --text model.h5 --features-name params
