# Config files (every option is a key, the command line wins, saved into checkpoint and
# metrics), JSONL and CSV metrics, the plot script, and logging levels/ranks.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/data.h5" --rows 600 --features 8 --classes 3 --seed 5 >/dev/null

# Every long option of `dptrain train` is a key of --print-config, and nothing else is.
"$DPTRAIN" train --data "$WORK/data.h5" --print-config >"$WORK/full.toml"
options=$("$DPTRAIN" train --help | grep -oE -- '--[a-z][a-z0-9-]+' | sed 's/^--//' | sort -u |
          grep -vxE 'help|config|print-config')
keys=$(sed -n 's/^\([a-z][a-z0-9-]*\)=.*/\1/p' "$WORK/full.toml" | sort -u)
[ "$options" = "$keys" ] || { diff <(echo "$options") <(echo "$keys") >&2; fail "option names and config keys differ"; }
pass "all $(echo "$keys" | wc -l) options of 'train' are config keys with the same names"

# The printed config, read back, gives the same config.
"$DPTRAIN" train --config "$WORK/full.toml" --print-config | diff - "$WORK/full.toml" ||
  fail "--print-config output read back with --config differs"
pass "--print-config -> --config round trip is exact"

# A file sets values; the command line overrides the file; flags work as keys.
cat >"$WORK/run.toml" <<TOML
# a run
data = "$WORK/data.h5"
model = "softmax"
epochs = 5
lr = 0.3
batch = 60
log-all-ranks = true
progress = "off"
TOML
run_mpi 2 train --config "$WORK/run.toml" --epochs 2 --metrics "$WORK/m.jsonl" --metrics-csv "$WORK/m.csv" \
  --checkpoint "$WORK/model.h5" >"$WORK/run.out"
[ "$(wc -l <"$WORK/m.jsonl")" -eq 2 ] || fail "--epochs 2 on the command line did not override epochs = 5"
[ "$(metric "$WORK/m.jsonl" lr)" = 0.3 ] || fail "lr = 0.3 from the file was not used"
grep -q '^\[rank 0\] epoch 2/2' "$WORK/run.out" || fail "log-all-ranks = true from the file was not used"
pass "config file values used (lr 0.3, log-all-ranks), command line wins (epochs 2)"

# The effective config is in the checkpoint and next to the metrics; it reproduces the run.
py "
import h5py
c = h5py.File('$WORK/model.h5', 'r').attrs['config']
c = c.decode() if isinstance(c, bytes) else c
assert 'epochs=2' in c.splitlines() and 'lr=0.3' in c.splitlines(), c
" || fail "checkpoint 'config' attribute lacks the effective options"
for f in m.config.toml; do
  grep -qx 'epochs=2' "$WORK/$f" && grep -qx 'lr=0.3' "$WORK/$f" && grep -qx "metrics-csv=\"$WORK/m.csv\"" "$WORK/$f" ||
    fail "$f does not hold the effective options"
done
run_mpi 2 train --config "$WORK/m.config.toml" --metrics "$WORK/again.jsonl" --metrics-csv "" --checkpoint "" >/dev/null
py "
import json
a = [json.loads(l)['train_loss'] for l in open('$WORK/m.jsonl')]
b = [json.loads(l)['train_loss'] for l in open('$WORK/again.jsonl')]
assert a == b, (a, b)
" || fail "rerunning the saved config gave other losses"
pass "effective config saved in the checkpoint and in m.config.toml; rerunning it repeats the losses"

# CSV holds the same numbers as JSONL; a .csv --metrics file is CSV.
py "
import csv, json
j = [json.loads(l) for l in open('$WORK/m.jsonl')]
c = list(csv.DictReader(open('$WORK/m.csv')))
assert len(c) == 2
for a, b in zip(j, c):
    for k in ('epoch', 'train_loss', 'train_accuracy', 'lr', 'ranks', 'threads'):
        assert abs(float(b[k]) - float(a[k])) <= 1e-9 * max(1, abs(float(a[k]))), (k, a[k], b[k])
    assert b['val_loss'] == '' and a['val_loss'] is None
" || fail "CSV and JSONL metrics differ"
run_mpi 1 train --data "$WORK/data.h5" --epochs 3 --val "$WORK/data.h5" --metrics "$WORK/only.csv" --progress off >/dev/null
[ "$(head -1 "$WORK/only.csv")" = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,samples_per_s,epoch_s,val_s,compute_s,comm_s,io_s,lr,peak_rss_mb,skipped_steps,ranks,threads" ] ||
  fail "--metrics FILE.csv did not write a CSV header"
[ "$(wc -l <"$WORK/only.csv")" -eq 4 ] || fail "--metrics FILE.csv: expected a header and 3 rows"
pass "CSV metrics (--metrics-csv, or --metrics FILE.csv) match JSONL"

# Unknown keys are errors that name the file and key, printed once.
printf 'epochs = 2\nepoch = 3\n' >"$WORK/bad.toml"
expect_failure unknown-key "bad.toml: unknown key 'epoch'" 2 train --data "$WORK/data.h5" --config "$WORK/bad.toml"
expect_failure no-data "data is required \\(on the command line" 2 train --epochs 1

# Plots: JSONL and CSV runs into one PNG.
"$PYTHON" "$SOURCE_DIR/scripts/plot_metrics.py" -o "$WORK/plot.png" "json=$WORK/m.jsonl" "$WORK/m.csv" "$WORK/only.csv" >/dev/null ||
  fail "plot_metrics.py failed"
py "
d = open('$WORK/plot.png', 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 10000, len(d)
" || fail "plot_metrics.py wrote no PNG"
echo '{"x": 1}' >"$WORK/bogus.jsonl"
out=$("$PYTHON" "$SOURCE_DIR/scripts/plot_metrics.py" -o "$WORK/b.png" "$WORK/bogus.jsonl" 2>&1) && fail "plot of a bogus file succeeded"
[[ $out == *"not a dptrain metrics file"* ]] || fail "plot_metrics.py: unclear error: $out"
pass "plot_metrics.py draws JSONL and CSV runs into a PNG, rejects other files"

# Logging: rank 0 only by default; levels; --log-all-ranks prefixes every rank's lines.
common=(train --data "$WORK/data.h5" --epochs 1 --progress off)
run_mpi 2 "${common[@]}" >"$WORK/default.out" 2>&1
[ "$(grep -c 'run layout: 2 rank(s)' "$WORK/default.out")" -eq 1 ] || fail "default: run layout not printed exactly once"
grep -q '^\[rank' "$WORK/default.out" && fail "default: lines carry rank prefixes"
run_mpi 2 "${common[@]}" --log-level warn >"$WORK/warn.out" 2>&1
[ ! -s "$WORK/warn.out" ] || { cat "$WORK/warn.out" >&2; fail "--log-level warn still printed info lines"; }
run_mpi 2 "${common[@]}" --log-level debug --log-all-ranks >"$WORK/all.out" 2>&1
for r in 0 1; do
  grep -q "^\[rank $r\] dptrain: debug: rank $r on " "$WORK/all.out" || fail "--log-all-ranks: no debug line from rank $r"
done
grep -q '^\[rank 0\] epoch 1/1' "$WORK/all.out" || fail "--log-all-ranks: epoch line without rank prefix"
expect_failure bad-level "log-level 'loud': expected error, warn, info or debug" 2 "${common[@]}" --log-level loud
pass "logging: rank 0 only by default, --log-level warn is quiet, --log-all-ranks prefixes [rank R]"

# TOML as TOML (toml++): underscores in numbers, snake_case keys, arrays of files, and a
# syntax error names the line.
"$DPTRAIN" gen --out "$WORK/second.h5" --rows 100 --features 8 --classes 3 --seed 9 >/dev/null
printf 'data = ["%s", "%s"]\nbatch = 1_024\nlr_schedule = "cosine"\nlog_every = 1_0\n' "$WORK/data.h5" "$WORK/second.h5" >"$WORK/real.toml"
"$DPTRAIN" train --config "$WORK/real.toml" --print-config >"$WORK/real.out"
grep -qx 'batch=1024' "$WORK/real.out" && grep -qx 'lr-schedule="cosine"' "$WORK/real.out" &&
  grep -qx 'log-every=10' "$WORK/real.out" || { cat "$WORK/real.out" >&2; fail "1_024 / snake_case keys not read"; }
"$DPTRAIN" train --config "$WORK/real.toml" --epochs 1 --progress off >"$WORK/real.log"
grep -q "training rows" "$WORK/real.log" || fail "a run from a TOML array of files"
printf 'epochs = 2\nlr = [0.1\n' >"$WORK/broken.toml"
expect_failure broken-toml "broken.toml: not valid TOML at line 2" 1 train --data "$WORK/data.h5" --config "$WORK/broken.toml"
pass "TOML: 1_024, snake_case keys, arrays of files; syntax errors name the line"
