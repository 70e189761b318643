#!/usr/bin/env bash
# Measures `dptrain serve` on loopback with wrk: requests/s and p50/p99 latency at 1, 8 and 64
# concurrent connections, for requests of 1 and 32 rows, with dynamic batching
# (--max-batch 256 --max-delay-ms 1) and without (--max-batch 1: one forward pass per request).
# Compared with the single-stream `predict --stdin` (one pipe, lock-step and all piped) and the
# floor of one forward pass per batch in-process (`dptrain bench --forward`).
# Usage: scripts/bench_serve.sh [SECONDS_PER_RUN (default 4)]   (about 2 minutes at 4)
# Model: mlp:512,512 on 128 features, 10 classes (0.67 MFLOP per row), one scoring thread.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
DPTRAIN=${DPTRAIN:-$root/build/dptrain}
PYTHON=/usr/bin/python3
seconds=${1:-4}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HDF5_USE_FILE_LOCKING=FALSE
command -v wrk >/dev/null || { echo "bench_serve: wrk not installed (scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-bench-serve.XXXXXX")
server_pid=
cleanup() {
  [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

features=128 classes=10 model=mlp:512,512
"$DPTRAIN" gen --out "$work/data.h5" --rows 4096 --features $features --classes $classes --seed 1 >/dev/null
"$DPTRAIN" train --data "$work/data.h5" --model $model --epochs 1 --batch 256 --lr 0.05 --progress off \
  --checkpoint "$work/bench.h5" >/dev/null
# Request bodies of 1 and 32 rows, and 4096 CSV rows for predict --stdin.
"$PYTHON" - "$work" <<'PY'
import json, sys, h5py
work = sys.argv[1]
x = h5py.File(f"{work}/data.h5", "r")["features"][...]
for n in (1, 32):
    body = {"inputs": [{"name": "input", "shape": [n, x.shape[1]], "datatype": "FP32",
                        "data": x[:n].reshape(-1).tolist()}]}
    open(f"{work}/body{n}.json", "w").write(json.dumps(body))
    open(f"{work}/post{n}.lua", "w").write(f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{work}/body{n}.json", "r")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
""")
with open(f"{work}/rows.csv", "w") as f:
    for row in x:
        f.write(",".join(repr(float(v)) for v in row) + "\n")
PY

metric() { curl -sS --max-time 10 "$url/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); wrk and the server share them"
echo "model: $("$DPTRAIN" bench --model $model --features $features --classes $classes --rows 1 --seconds 0.01 --forward | sed 's/.*"model": "\([^"]*\)".*/\1/')"
echo
echo "| batching | rows/request | connections | requests/s | rows/s | p50 ms | p99 ms | rows per forward pass | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
for mode in dynamic off; do
  if [ $mode = dynamic ]; then flags=(--max-batch 256 --max-delay-ms 1); else flags=(--max-batch 1); fi
  "$DPTRAIN" serve --model "$work/bench.h5" --port 0 --threads 64 --score-threads 1 --max-queue 1024 \
    "${flags[@]}" >"$work/serve.log" 2>&1 &
  server_pid=$!
  url=
  for _ in $(seq 300); do
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/serve.log" || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/serve.log" >&2; exit 1; }
  for rows in 1 32; do
    for conns in 1 8 64; do
      threads=$((conns < 2 ? 1 : 2))
      sum0=$(metric dptrain_serve_batch_rows_sum) count0=$(metric dptrain_serve_batch_rows_count)
      out=$(timeout $((seconds + 30)) wrk -t $threads -c $conns -d "${seconds}s" --timeout 10s \
            -s "$work/post$rows.lua" "$url/v2/models/bench/infer")
      sum1=$(metric dptrain_serve_batch_rows_sum) count1=$(metric dptrain_serve_batch_rows_count)
      read -r _ n us errors non2xx p50 p99 <<<"$(grep '^RESULT' <<<"$out")"
      awk -v mode=$mode -v rows=$rows -v c=$conns -v n="$n" -v us="$us" -v p50="$p50" -v p99="$p99" \
          -v e=$((errors + non2xx)) -v s0="$sum0" -v s1="$sum1" -v c0="$count0" -v c1="$count1" 'BEGIN {
        rps = n / (us / 1e6); per = (c1 > c0) ? (s1 - s0) / (c1 - c0) : 0
        printf "| %s | %d | %d | %.0f | %.0f | %.2f | %.2f | %.1f | %d |\n", mode, rows, c, rps, rps * rows, p50 / 1e3, p99 / 1e3, per, e }'
    done
  done
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "server exit code $? after SIGTERM" >&2; exit 1; }
  server_pid=
done

echo
echo "Single stream, predict --stdin --threads 1 (one process, one pipe):"
"$PYTHON" - "$DPTRAIN" "$work" "$seconds" <<'PY'
import subprocess, sys, time
dptrain, work, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
lines = open(f"{work}/rows.csv").read().splitlines(keepends=True)
cmd = [dptrain, "predict", "--model", f"{work}/bench.h5", "--stdin", "--threads", "1"]
for rows in (1, 32):  # lock-step: send a request of `rows` lines, wait for its answers
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # buffered reads
    reader, latencies, k = p.stdout, [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and k < 200000:
        chunk = "".join(lines[(k * rows + i) % len(lines)] for i in range(rows)).encode()
        t = time.perf_counter()
        p.stdin.write(chunk)
        p.stdin.flush()
        for _ in range(rows):
            reader.readline()
        latencies.append(time.perf_counter() - t)
        k += 1
    elapsed = time.perf_counter() - start
    p.stdin.close(); p.wait(timeout=30)
    latencies.sort()
    q = lambda f: latencies[min(len(latencies) - 1, int(f * len(latencies)))] * 1e3
    print(f"| stdin lock-step | {rows} | 1 | {k / elapsed:.0f} | {k * rows / elapsed:.0f} | "
          f"{q(0.5):.2f} | {q(0.99):.2f} | - | 0 |")
data = "".join(lines * 4).encode()  # 16384 rows piped at once: batches of --batch-lines 256
t = time.perf_counter()
out = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True, timeout=120).stdout
elapsed = time.perf_counter() - t
assert out.count(b"\n") == len(lines) * 4
print(f"| stdin all piped (incl. start-up) | 16384 | 1 | - | {len(lines) * 4 / elapsed:.0f} | - | - | - | 0 |")
PY

echo
echo "Floor: one forward pass in-process (dptrain bench --forward, one thread):"
for rows in 1 32 64 256; do
  "$DPTRAIN" bench --model $model --features $features --classes $classes --rows $rows --seconds 1 --forward |
    "$PYTHON" -c "import json,sys; r=json.load(sys.stdin); print(f\"| {r['rows']} rows | {r['forward_seconds']*1e3:.3f} ms | {r['rows_per_second']:.0f} rows/s | {r['rows_per_second']/r['rows']:.0f} passes/s |\")"
done
