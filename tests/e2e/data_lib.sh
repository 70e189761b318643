# Helpers for the data-pipeline tests (sourced after lib.sh).

# expect_every_rank_fails NAME REGEX NP ARGS... : like expect_failure, and also checks that
# every one of the NP ranks exited non-zero (each rank runs under a wrapper that records its
# exit code; mpirun is told not to kill the others when the first one exits).
expect_every_rank_fails() {
  local name=$1 pattern=$2 np=$3; shift 3
  local out=$WORK/$name.out codes=$WORK/$name.code code=0
  cat >"$WORK/rank-exit.sh" <<'SH'
#!/bin/bash
"$@"; code=$?
echo "$code" >"$RANK_CODES.$OMPI_COMM_WORLD_RANK"
exit "$code"
SH
  chmod +x "$WORK/rank-exit.sh"
  RANK_CODES=$codes OMPI_MCA_orte_abort_on_non_zero_status=0 \
    timeout 60 "$MPIEXEC" -np "$np" --bind-to none -x RANK_CODES "$WORK/rank-exit.sh" \
    "$DPTRAIN" "$@" >"$out" 2>&1 || code=$?
  [ "$code" -ne 124 ] || { cat "$out" >&2; fail "$name: hung (timeout)"; }
  local count
  count=$(grep -cE "$pattern" "$out" || true)
  [ "$count" -eq 1 ] || { cat "$out" >&2; fail "$name: expected message /$pattern/ once, saw it $count times"; }
  local r
  for ((r = 0; r < np; r++)); do
    [ -f "$codes.$r" ] || { cat "$out" >&2; fail "$name: rank $r did not exit by itself"; }
    [ "$(cat "$codes.$r")" -ne 0 ] || fail "$name: rank $r exited 0"
  done
  pass "$name (every one of $np ranks exited non-zero): $(grep -E "$pattern" "$out")"
}

# expect_success_once NAME REGEX NP ARGS... : the run succeeds and prints REGEX exactly once.
expect_success_once() {
  local name=$1 pattern=$2 np=$3; shift 3
  local out=$WORK/$name.out code=0
  timeout 60 "$MPIEXEC" -np "$np" --bind-to none "$DPTRAIN" "$@" >"$out" 2>&1 || code=$?
  [ "$code" -eq 0 ] || { cat "$out" >&2; fail "$name: exit code $code, expected 0"; }
  local count
  count=$(grep -cE "$pattern" "$out" || true)
  [ "$count" -eq 1 ] || { cat "$out" >&2; fail "$name: expected /$pattern/ once, saw it $count times"; }
  pass "$name: $(grep -E "$pattern" "$out")"
}

# rank_peak_rss_mb NP ARGS... : runs dptrain on NP ranks and prints each rank's peak RSS in MiB,
# one per line, rank order.
rank_peak_rss_mb() {
  local np=$1; shift
  rm -f "$WORK/rss."*
  "$MPIEXEC" -np "$np" --bind-to none "$PYTHON" "$SOURCE_DIR/scripts/peak_rss.py" "$WORK/rss" \
    "$DPTRAIN" "$@" >/dev/null
  local r
  for ((r = 0; r < np; r++)); do echo $(( $(cat "$WORK/rss.$r") / 1024 )); done
}
