# dptrain serve on loopback: many concurrent clients whose every answer equals `dptrain
# predict` on the same rows (classifier, logistic, regression); bad requests get 4xx JSON
# errors and leave the server working; a tiny queue answers 503; SIGTERM drains requests in
# flight and exits 0; SIGHUP swaps in a new model and keeps the old one for a bad file; more
# than one rank is refused. Servers bind port 0 (a free port) and print it.
source "$(dirname "$0")/lib.sh"
client() { timeout 150 "$PYTHON" "$(dirname "$0")/serve_client.py" "$@"; }

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# start_server LOG ARGS... : starts `dptrain serve --port 0 ARGS` in the background and sets
# SERVER_PID and URL from its startup line (waits at most 60 s).
start_server() {
  local log=$1; shift
  "$DPTRAIN" serve --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  URL=
  for _ in $(seq 600); do
    URL=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | grep -oE 'http://.*' || true)
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; fail "server exited at start"; }
    sleep 0.1
  done
  [ -n "$URL" ] || { cat "$log" >&2; fail "no startup line within 60 s"; }
}

# sigterm_and_wait NAME : SIGTERM, then the server must exit 0 within 60 s.
sigterm_and_wait() {
  kill -TERM "$SERVER_PID"
  wait_exit "$1"
}

# wait_exit NAME : the server (already signalled) must exit 0 within 60 s.
wait_exit() {
  local code=0
  for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "$1: server still running 60 s after SIGTERM"
  wait "$SERVER_PID" || code=$?
  SERVER_PID=
  [ "$code" -eq 0 ] || fail "$1: exit code $code after SIGTERM"
  pass "$1: exit 0 after SIGTERM"
}

# Models and the predictions `dptrain predict` writes for every row.
"$DPTRAIN" gen --out "$WORK/cls.h5" --rows 600 --features 13 --classes 4 --noise 0.5 --seed 7 >/dev/null
"$DPTRAIN" gen --out "$WORK/bin.h5" --rows 300 --features 6 --classes 2 --noise 0.5 --seed 9 >/dev/null
"$DPTRAIN" gen --out "$WORK/reg.h5" --rows 300 --features 9 --targets 2 --noise 0.3 --seed 8 >/dev/null
train=(train --epochs 2 --batch 64 --progress off)
run_mpi 1 "${train[@]}" --data "$WORK/cls.h5" --model mlp:16,8 --lr 0.1 --seed 3 --checkpoint "$WORK/mlp.h5" >/dev/null
run_mpi 1 "${train[@]}" --data "$WORK/cls.h5" --model mlp:16,8 --lr 0.1 --seed 4 --epochs 1 \
  --checkpoint "$WORK/mlp2.h5" >/dev/null
# Slow to score on purpose (~1 M multiply-adds per row): requests of thousands of rows stay in
# flight long enough for the overload and drain cases.
run_mpi 1 "${train[@]}" --data "$WORK/cls.h5" --model mlp:1024,1024 --lr 0.01 --seed 5 --epochs 1 \
  --checkpoint "$WORK/big.h5" >/dev/null
run_mpi 1 "${train[@]}" --data "$WORK/bin.h5" --model logistic --lr 0.5 --checkpoint "$WORK/logistic.h5" >/dev/null
run_mpi 1 "${train[@]}" --data "$WORK/reg.h5" --model linear --lr 0.05 --checkpoint "$WORK/linear.h5" >/dev/null
for pair in mlp:cls mlp2:cls big:cls logistic:bin linear:reg; do
  run_mpi 1 predict --model "$WORK/${pair%%:*}.h5" --data "$WORK/${pair##*:}.h5" \
    --out "$WORK/${pair%%:*}-pred.h5" >/dev/null
done

# 1. Concurrent clients, every answer checked; the batcher merged requests.
start_server "$WORK/serve1.log" --model "$WORK/mlp.h5" --threads 16 --max-batch 64 --max-delay-ms 2
grep -q "model 'mlp'" "$WORK/serve1.log" || fail "startup line does not name the model"
client check "$URL" mlp "$WORK/cls.h5" "$WORK/mlp-pred.h5" 12 40 || fail "concurrent answers"
requests=$(client metric "$URL" dptrain_serve_batch_requests_sum)
batches=$(client metric "$URL" dptrain_serve_batch_requests_count)
[ "$requests" = 480 ] || fail "metrics count $requests scored requests, expected 480"
"$PYTHON" -c "import sys; sys.exit(0 if $batches < $requests else 1)" ||
  fail "no request was merged: $batches forward passes for $requests requests"
pass "12 clients x 40 requests answered as predict does, in $batches forward passes"
client check "$URL" mlp "$WORK/cls.h5" "$WORK/mlp-pred.h5" 2 5 200 || fail "requests of 200 rows"
pass "requests larger than --max-batch run alone and are right"
expect_failure serve-port-in-use "cannot listen there" 1 serve --model "$WORK/mlp.h5" --port "${URL##*:}"

# 2. Bad requests: 4xx with a JSON error naming the problem; the server keeps working.
client bad "$URL" mlp 13 || fail "bad requests"
metrics=$(curl -sS --max-time 30 "$URL/metrics")
for name in dptrain_serve_requests_total dptrain_serve_errors_total dptrain_serve_batch_rows_bucket \
  dptrain_serve_queue_depth dptrain_serve_request_duration_seconds_bucket; do
  grep -q "^$name" <<<"$metrics" || fail "/metrics lacks $name"
done
grep -q 'dptrain_serve_errors_total{reason="unknown_model"} 2' <<<"$metrics" || fail "unknown_model errors not counted"
grep -q 'dptrain_serve_requests_total{endpoint="infer",code="400"} 5' <<<"$metrics" || fail "400s not counted"
pass "/metrics in Prometheus text format counts requests, errors, batches, queue, latency"
sigterm_and_wait "idle server"
grep -q "dptrain serve: stopped" "$WORK/serve1.log" || fail "no 'stopped' line"

# 3. Logistic and regression models answer what predict writes; a body over the limit gets 413.
start_server "$WORK/serve2.log" --model "$WORK/logistic.h5" --model-name bin --threads 8 --max-body-bytes 100000
client check "$URL" bin "$WORK/bin.h5" "$WORK/logistic-pred.h5" 6 20 || fail "logistic answers"
client too-large "$URL" bin 100000 || fail "body too large"
sigterm_and_wait "logistic server"
start_server "$WORK/serve3.log" --model "$WORK/linear.h5" --threads 8 --score-threads 2
client check "$URL" linear "$WORK/reg.h5" "$WORK/linear-pred.h5" 6 20 || fail "regression answers"
sigterm_and_wait "regression server"
pass "logistic and regression answers equal predict's"

# 4. Overload: 24 clients send a 4000-row request at once to a slow model scored one request
# at a time, and at most 2 requests may wait: some are refused with 503 at once, the others
# get right answers.
start_server "$WORK/serve4.log" --model "$WORK/big.h5" --threads 32 --max-batch 1 --max-queue 2
client overload "$URL" big "$WORK/cls.h5" "$WORK/big-pred.h5" 24 4000 || fail "overload"
[ "$(client metric "$URL" 'dptrain_serve_errors_total{reason="queue_full"}')" != 0 ] || fail "queue_full not counted"
sigterm_and_wait "overloaded server"
pass "a full queue answers 503 without harming the other requests"

# 5. SIGTERM drain: 8 requests of 8000 rows (each a fraction of a second to score, one at a
# time) are all in flight when SIGTERM arrives.
start_server "$WORK/serve5.log" --model "$WORK/big.h5" --threads 16 --max-batch 1
client drain "$URL" big "$WORK/cls.h5" "$WORK/big-pred.h5" 8 8000 "$SERVER_PID" || fail "drain"
wait_exit "draining server"
grep -q "SIGTERM: no new connections" "$WORK/serve5.log" || fail "no SIGTERM log line"
code=0
curl -sS --max-time 5 "$URL/v2/health/live" >/dev/null 2>&1 || code=$?
[ "$code" -ne 0 ] || fail "server still answers after exit"
pass "SIGTERM: in-flight requests answered, exit 0, port closed"

# 6. SIGHUP: a new model file is swapped in atomically; a bad file keeps the old model.
cp "$WORK/mlp.h5" "$WORK/live.h5"
start_server "$WORK/serve6.log" --model "$WORK/live.h5" --threads 8
client check "$URL" live "$WORK/cls.h5" "$WORK/mlp-pred.h5" 4 10 || fail "before reload"
cp "$WORK/mlp2.h5" "$WORK/live.tmp" && mv "$WORK/live.tmp" "$WORK/live.h5"
kill -HUP "$SERVER_PID"
client wait-metric "$URL" 'dptrain_serve_model_reloads_total{result="ok"}' 1 || fail "reload not done"
client check "$URL" live "$WORK/cls.h5" "$WORK/mlp2-pred.h5" 4 10 || fail "answers after reload"
grep -q "reloaded .*live.h5 as version 2" "$WORK/serve6.log" || fail "no reload log line"
pass "SIGHUP: answers now equal predict with the new model"
echo "not an HDF5 file" >"$WORK/live.tmp" && mv "$WORK/live.tmp" "$WORK/live.h5"
kill -HUP "$SERVER_PID"
client wait-metric "$URL" 'dptrain_serve_model_reloads_total{result="failed"}' 1 || fail "bad reload not counted"
client check "$URL" live "$WORK/cls.h5" "$WORK/mlp2-pred.h5" 4 10 || fail "answers after a bad reload"
reason=$(grep "reload failed" "$WORK/serve6.log" || true)
[ -n "$reason" ] || fail "a failed reload is not logged"
grep -q "live.h5" <<<"$reason" || fail "the failed reload's log line does not name the file: $reason"
pass "SIGHUP with a bad file keeps serving the old model: $reason"
sigterm_and_wait "reloaded server"

# 7. One process only.
expect_failure serve-ranks "serve runs as one process" 2 serve --model "$WORK/mlp.h5" --port 0
expect_failure serve-bad-model "missing.h5" 1 serve --model "$WORK/missing.h5" --port 0
expect_failure serve-bad-batch "--max-batch must be at least 1" 1 serve --model "$WORK/mlp.h5" --port 0 --max-batch 0
pass "serve refuses several ranks, a missing model and bad options"
