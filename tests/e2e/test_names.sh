# Column and class names: convert stores them as 1-D variable-length UTF-8 string arrays (a
# name with a comma survives, a UTF-8 BOM is stripped, h5py reads str); inspect shows them;
# training keeps them in the checkpoint; eval's per-class report and predict's CSV header use
# them; a file of an older version (names joined by commas in one string) is still read.
source "$(dirname "$0")/lib.sh"
cd "$WORK"

# 3 classes, 2 features; the header starts with a BOM and has a quoted name with a comma.
"$PYTHON" - <<'PY'
import random
random.seed(3)
names = ["Iris, setosa", "versicolor", "virginica ü"]
with open("iris.csv", "w", encoding="utf-8-sig") as f:  # utf-8-sig writes the BOM
    f.write('sepal,"width, cm",species\n')
    for i in range(240):
        c = i % 3
        f.write(f"{c * 2 + random.gauss(0, 0.6):.4f},{-c + random.gauss(0, 0.6):.4f},\"{names[c]}\"\n")
PY
out=$("$DPTRAIN" convert --from csv --input iris.csv --out iris.h5 --label-column species --label-type category --progress off)
py "
import h5py
f = h5py.File('iris.h5', 'r')
cols, classes = f['features'].attrs['columns'], f['labels'].attrs['classes']
assert cols.ndim == 1 and classes.ndim == 1, (cols.shape, classes.shape)
assert all(type(n) is str for n in list(cols) + list(classes)), (cols, classes)
assert list(cols) == ['sepal', 'width, cm'], list(cols)
assert list(classes) == ['Iris, setosa', 'versicolor', 'virginica ü'], list(classes)
" || fail "convert: names are not 1-D str arrays with the BOM stripped"
pass "convert: columns ['sepal', 'width, cm'] and 3 classes as string arrays, read as str by h5py ($out)"

out=$("$DPTRAIN" inspect iris.h5)
grep -q "column names (2): 'sepal', 'width, cm'" <<<"$out" || { echo "$out"; fail "inspect: no column names"; }
grep -qE "^ +1 .* 0  width, cm$" <<<"$out" || { echo "$out"; fail "inspect: column 1 not named"; }
grep -qE "^ +0 +80 +33.33%  Iris, setosa$" <<<"$out" || { echo "$out"; fail "inspect: class 0 not named in the histogram"; }
pass "inspect shows the column and class names"

run_mpi 2 train --data iris.h5 --model softmax --epochs 5 --lr 0.3 --batch 16 --progress off --checkpoint m.h5 >train.log
py "
import h5py
m = h5py.File('m.h5', 'r')
assert list(m.attrs['class_names']) == ['Iris, setosa', 'versicolor', 'virginica ü'], m.attrs['class_names']
assert list(m.attrs['column_names']) == ['sepal', 'width, cm'] and type(m.attrs['class_names'][0]) is str
" || fail "checkpoint: no class_names/column_names string arrays"
pass "the checkpoint keeps the names (h5py reads str)"

out=$(run_mpi 2 eval --model m.h5 --data iris.h5)
grep -qE "^ +0( +[0-9.]+){3} +80  Iris, setosa$" <<<"$out" || { echo "$out"; fail "eval: class 0 row not named"; }
grep -qE "^ +2( +[0-9.]+){3} +80  virginica ü$" <<<"$out" || { echo "$out"; fail "eval: class 2 row not named"; }
names=$(run_mpi 1 eval --model m.h5 --data iris.h5 --json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['class_names'])")
[ "$names" = "['Iris, setosa', 'versicolor', 'virginica ü']" ] || fail "eval --json class_names: $names"
pass "eval: per-class report and --json name the classes"

# predict writes only features: the names come from the model.
py "
import h5py
with h5py.File('iris.h5', 'r') as f, h5py.File('x.h5', 'w') as g: g['features'] = f['features'][:]
"
run_mpi 2 predict --model m.h5 --data x.h5 --out p.csv >/dev/null
header=$(head -n 1 p.csv)
[ "$header" = 'prediction,"p_Iris, setosa",p_versicolor,p_virginica ü' ] || fail "predict CSV header: $header"
py "
import csv
rows = list(csv.reader(open('p.csv', encoding='utf-8')))
assert rows[0][1] == 'p_Iris, setosa' and len(rows) == 241 and all(len(r) == 4 for r in rows), rows[:2]
" || fail "predict CSV does not parse with 4 columns"
run_mpi 2 predict --model m.h5 --data x.h5 --out p.h5 >/dev/null
py "
import h5py
assert list(h5py.File('p.h5', 'r')['probabilities'].attrs['classes'])[2] == 'virginica ü'
" || fail "predict .h5: /probabilities has no classes attribute"
pass "predict: CSV header $header; .h5 /probabilities names the classes"

# Older files: names joined by commas in one string. A model without names takes the data's.
"$DPTRAIN" gen --out plain.h5 --rows 90 --features 2 --classes 3 --seed 4 >/dev/null
run_mpi 1 train --data plain.h5 --model softmax --epochs 2 --progress off --checkpoint plain_m.h5 >/dev/null
py "
import h5py, numpy as np
with h5py.File('plain.h5', 'r') as f, h5py.File('old.h5', 'w') as g:
    g['features'] = f['features'][:]; g['labels'] = f['labels'][:]
    g['labels'].attrs.create('classes', np.bytes_(b'cat,dog,bird'))  # fixed-length ASCII, as old h5py writes
    g['features'].attrs.create('columns', np.bytes_(b'a,b'))
m = h5py.File('plain_m.h5', 'r'); assert 'class_names' not in m.attrs
"
run_mpi 2 predict --model plain_m.h5 --data old.h5 --out old.csv >/dev/null
header=$(head -n 1 old.csv)
[ "$header" = "prediction,p_cat,p_dog,p_bird" ] || fail "older file: predict CSV header $header"
out=$("$DPTRAIN" inspect old.h5)
grep -q "column names (2): 'a', 'b'" <<<"$out" && grep -q "class names (3): 'cat', 'dog', 'bird'" <<<"$out" ||
  { echo "$out"; fail "inspect: older comma-joined names not shown"; }
pass "older comma-joined names are read (predict header $header, inspect)"
