# One exit-code table for every command and every rank (issue 12, class 6): 0 ok, 1 runtime
# error, 2 usage (bad option, option value or config file), 3 stall; 75 and 130 are proven
# by test_signals_resume.sh. Each case runs on 2 ranks and checks the code of every rank.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/a.h5" --rows 100 --features 4 --classes 3 --seed 1 >/dev/null
"$DPTRAIN" gen --out "$WORK/b.h5" --rows 60 --features 4 --classes 3 --seed 2 >/dev/null
train=(train --data "$WORK/a.h5" --epochs 1 --progress off)

# expect_code NAME CODE PATTERN ARGS... : every one of 2 ranks exits CODE; PATTERN ("" = any)
# appears once in the output.
expect_code() {
  local name=$1 want=$2 pattern=$3; shift 3
  local out=$WORK/$name.out code=0
  # mpirun would kill the other rank once one exits non-zero: keep it running, so that what is
  # checked is that every rank exits by itself with the code (mpirun itself then exits 0;
  # expect_mpirun_code checks what mpirun passes on in its default mode).
  timeout 60 "$MPIEXEC" -np 2 --bind-to none --mca orte_abort_on_non_zero_status 0 bash -c \
    '"$0" "$@"; c=$?; echo "rank $OMPI_COMM_WORLD_RANK exited $c"; exit $c' "$DPTRAIN" "$@" >"$out" 2>&1 || code=$?
  [ "$code" -ne 124 ] || fail "$name: hung"
  local ranks
  ranks=$(grep -c "^rank [01] exited $want\$" "$out" || true)
  [ "$ranks" -eq 2 ] ||
    { cat "$out" >&2; fail "$name: $ranks of 2 ranks exited $want; expected $want on every rank"; }
  if [ -n "$pattern" ]; then
    [ "$(grep -cE -- "$pattern" "$out" || true)" -eq 1 ] || { cat "$out" >&2; fail "$name: expected /$pattern/ once"; }
  fi
  pass "$name: every rank exits $want${pattern:+ ($(grep -E -- "$pattern" "$out" | head -1))}"
}

# expect_mpirun_code NAME CODE ARGS... : under mpirun's defaults (abort the job on the first
# non-zero exit) mpirun exits CODE.
expect_mpirun_code() {
  local name=$1 want=$2 code=0; shift 2
  timeout 60 "$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" "$@" >"$WORK/$name.mpirun.out" 2>&1 || code=$?
  [ "$code" -eq "$want" ] || { cat "$WORK/$name.mpirun.out" >&2; fail "$name: mpirun exit $code, expected $want"; }
  pass "$name: mpirun exits $want"
}
expect_mpirun_code usage-error 2 "${train[@]}" --batch 0
expect_mpirun_code runtime-error 1 train --data "$WORK/none.h5" --progress off

# Usage errors found by the command-line parser (CLI11's own codes were 104-109 on rank 0).
expect_code unknown-option 2 "The following argument was not expected: --bogus" "${train[@]}" --bogus
expect_code not-a-number 2 "Could not convert: --epochs = abc" train --data "$WORK/a.h5" --epochs abc
expect_code missing-required 2 "--model is required" eval --data "$WORK/a.h5"
expect_code no-subcommand 2 "A subcommand is required" 
expect_code stall-timeout-negative 2 "--stall-timeout: '-1' is not a number of seconds >= 0" "${train[@]}" --stall-timeout -1
expect_code stall-timeout-nan 2 "'nan' is not a number of seconds >= 0" "${train[@]}" --stall-timeout nan
expect_code stall-timeout-eval 2 "'-5' is not a number of seconds >= 0" eval --model x.h5 --data "$WORK/a.h5" --stall-timeout -5
expect_code keep-last-zero 2 "--keep-last must be at least 1" "${train[@]}" --keep-last 0
expect_code keep-last-negative 2 "--keep-last must be at least 1" "${train[@]}" --keep-last -1
expect_code help 0 "" train --help
expect_code version 0 "dptrain 0.1.0" --version

# Usage errors found after parsing: option values and config files.
expect_code batch-zero 2 "^dptrain: error: --batch must be at least 1" "${train[@]}" --batch 0
expect_code bad-sync 2 "^dptrain: error: --sync 'x': expected grad or params" "${train[@]}" --sync x
mkdir -p "$WORK/cfgdir"
expect_code config-folder 2 "^dptrain: error: --config $WORK/cfgdir: is a folder; expected a TOML file" train --config "$WORK/cfgdir"
printf 'data = "%s\nepochs = 1\n' "$WORK/a.h5" >"$WORK/unterminated.toml"
expect_code config-unterminated 2 "^dptrain: error: --config $WORK/unterminated.toml: not valid TOML at line 1" \
  train --config "$WORK/unterminated.toml"
printf 'data = "%s"\nmodel = ["softmax", "linear"]\n' "$WORK/a.h5" >"$WORK/array-model.toml"
expect_code config-array-one-value 2 "key 'model' takes one value; got 2" train --config "$WORK/array-model.toml"
printf 'epochs = 1\n' >"$WORK/no-data.toml"
expect_code config-without-data 2 "^dptrain: error: --data is required" train --config "$WORK/no-data.toml"
expect_code config-missing 2 "^dptrain: error: --config $WORK/none.toml: cannot open it: No such file or directory \(ENOENT\)" train --config "$WORK/none.toml"

# A TOML array for data is the list of files, not its last element.
printf 'data = ["%s", "%s"]\nepochs = 1\nprogress = "off"\n' "$WORK/a.h5" "$WORK/b.h5" >"$WORK/array.toml"
run_mpi 2 train --config "$WORK/array.toml" >"$WORK/array.log" 2>&1 || { cat "$WORK/array.log"; fail "data = [a, b] failed"; }
grep -q "160 training rows" "$WORK/array.log" || { cat "$WORK/array.log"; fail "data = [a, b] did not read both files (100 + 60 rows)"; }
pass "config data = [\"a.h5\", \"b.h5\"] trains on both files (160 rows)"

# Runtime errors: 1. A stalled rank: 3.
expect_code missing-file 1 "^dptrain: error: $WORK/none.h5: no such file" train --data "$WORK/none.h5" --progress off
expect_code eval-missing-model 1 "^dptrain: error: .*$WORK/none.h5" eval --model "$WORK/none.h5" --data "$WORK/a.h5"
# A stall ends in MPI_Abort, which ends every process of the job: mpirun's code is the table's.
code=0
DPTRAIN_FAULT="rank=1,step=1,kind=stall" timeout 60 "$MPIEXEC" -np 2 --bind-to none "$DPTRAIN" "${train[@]}" \
  --batch 10 --stall-timeout 2 >"$WORK/stall.out" 2>&1 || code=$?
[ "$code" -eq 3 ] || { cat "$WORK/stall.out"; fail "stall: exit $code, expected 3"; }
grep -q "rank(s) 1 did not arrive" "$WORK/stall.out" || { cat "$WORK/stall.out"; fail "stall: no message"; }
pass "stall: the job exits 3 naming the rank that did not arrive"
expect_code ok 0 "" "${train[@]}"
