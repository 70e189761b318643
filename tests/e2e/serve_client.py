#!/usr/bin/python3
"""Clients for tests/e2e/test_serve.sh: talk to a running `dptrain serve` over loopback HTTP
with the standard library only (http.client, threading), and check every answer against the
output of `dptrain predict` on the same rows. Every loop is bounded in count and time.

  serve_client.py check URL MODEL DATA.h5 PREDICT.h5 CLIENTS REQUESTS [MAX_ROWS]
  serve_client.py bad URL MODEL WIDTH
  serve_client.py too-large URL MODEL BYTES
  serve_client.py overload URL MODEL DATA.h5 PREDICT.h5 CLIENTS ROWS
  serve_client.py drain URL MODEL DATA.h5 PREDICT.h5 CLIENTS ROWS PID
  serve_client.py metric URL NAME            (prints the value of one metric line)
  serve_client.py wait-metric URL NAME VALUE (waits, at most 30 s, until it has that value)
Exit status 0 when every check passed; messages name what failed.
"""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.parse

import h5py
import numpy as np

TIMEOUT = 60  # seconds for any one HTTP exchange
TOLERANCE = 1e-6


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


class Client:
    """One keep-alive connection (reopened after the server closes it)."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname in ("127.0.0.1", "::1", "localhost"), "loopback only"
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)

    def request(self, method, path, body=None, headers=None):
        """(status, headers dict, body bytes); retries once on a connection the server closed."""
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None):
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        status, headers, raw = self.request(method, path, data, {"Content-Type": "application/json"})
        try:
            return status, json.loads(raw)
        except ValueError:
            fail(f"{method} {path}: HTTP {status} with a body that is not JSON: {raw[:200]!r}")

    def close(self):
        self.connection.close()


def infer_body(rows, request_id=None):
    body = {"inputs": [{"name": "input", "shape": list(rows.shape), "datatype": "FP32",
                        "data": rows.reshape(-1).tolist()}]}
    if request_id is not None:
        body["id"] = request_id
    return body


class Expected:
    """Features and `dptrain predict` outputs for the same rows."""

    def __init__(self, data_path, predict_path):
        with h5py.File(data_path, "r") as f:
            self.features = f["features"][...].astype(np.float32)
        with h5py.File(predict_path, "r") as p:
            self.classifier = "probabilities" in p
            self.predictions = p["predictions"][...]
            self.probabilities = p["probabilities"][...] if self.classifier else None

    def compare(self, answer, index, where):
        """Checks one infer response for rows `index`; returns an error message or None."""
        outputs = {o["name"]: o for o in answer["outputs"]}
        n = len(index)
        if self.classifier:
            p, c = outputs.get("probabilities"), outputs.get("predictions")
            if p is None or c is None:
                return f"{where}: outputs {sorted(outputs)}"
            want = self.probabilities[index]
            if p["shape"] != [n, want.shape[1]] or p["datatype"] != "FP32":
                return f"{where}: probabilities shape {p['shape']} {p['datatype']}"
            if c["shape"] != [n] or c["datatype"] != "INT64":
                return f"{where}: predictions shape {c['shape']} {c['datatype']}"
            got = np.array(p["data"], dtype=np.float64).reshape(n, -1)
            err = np.max(np.abs(got - want))
            if err > TOLERANCE:
                return f"{where}: probabilities differ from predict by {err:.3g}"
            for r, (g, w) in enumerate(zip(c["data"], self.predictions[index])):
                # A different class is only acceptable on an exact-to-rounding tie.
                if g != w and abs(want[r, g] - want[r, w]) > TOLERANCE:
                    return f"{where}: row {index[r]} predicted {g}, predict says {w}"
        else:
            v = outputs.get("predictions")
            want = self.predictions[index]
            if v is None or v["shape"] != [n, want.shape[1]] or v["datatype"] != "FP32":
                return f"{where}: predictions {v and (v['shape'], v['datatype'])}"
            err = np.max(np.abs(np.array(v["data"]).reshape(n, -1) - want))
            if err > TOLERANCE * max(1.0, np.max(np.abs(want))):
                return f"{where}: values differ from predict by {err:.3g}"
        return None


def run_threads(count, target):
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        if t.is_alive():
            fail("a client thread did not finish within 120 s")


def check(url, model, data, predict, clients, requests, max_rows=8):
    expected = Expected(data, predict)
    rows_total = expected.features.shape[0]
    errors, answered = [], [0]
    lock = threading.Lock()

    def client(i):
        rng = random.Random(i)
        c = Client(url)
        for k in range(requests):
            n = rng.choice([1, 1, 2, 3, max_rows, rng.randint(1, max_rows)])
            index = [rng.randrange(rows_total) for _ in range(n)]
            rid = f"c{i}-{k}"
            status, answer = c.json("POST", f"/v2/models/{model}/infer",
                                    infer_body(expected.features[index], rid))
            problem = None
            if status != 200:
                problem = f"{rid}: HTTP {status} {answer}"
            elif answer.get("id") != rid or answer.get("model_name") != model:
                problem = f"{rid}: id/model_name {answer.get('id')}/{answer.get('model_name')}"
            else:
                problem = expected.compare(answer, index, rid)
            with lock:
                answered[0] += 1
                if problem:
                    errors.append(problem)
        c.close()

    run_threads(clients, client)
    if errors:
        fail(f"{len(errors)} of {answered[0]} answers wrong, e.g. " + "; ".join(errors[:3]))
    print(f"{answered[0]} answers from {clients} concurrent clients equal predict's "
          f"(tolerance {TOLERANCE:g})")


def expect_error(c, method, path, body, status, words, label):
    got, answer = c.json(method, path, body)
    message = answer.get("error", "") if isinstance(answer, dict) else ""
    if got != status or any(w not in message for w in words):
        fail(f"{label}: expected HTTP {status} with an error naming {words}, got {got} {answer}")
    print(f"{label}: HTTP {got} {message!r}")


def bad(url, model, width):
    c = Client(url)
    infer = f"/v2/models/{model}/infer"
    good = infer_body(np.ones((1, width), dtype=np.float32))
    expect_error(c, "POST", infer, b'{"inputs": [', 400, ["malformed JSON"], "malformed JSON")
    nan = json.dumps(infer_body(np.full((1, width), np.nan, dtype=np.float32))).encode()  # NaN literal
    expect_error(c, "POST", infer, nan, 400, ["NaN"], "NaN")
    wide = infer_body(np.ones((2, width + 1), dtype=np.float32))
    expect_error(c, "POST", infer, wide, 400, [f"takes {width} features"], "wrong width")
    short = infer_body(np.ones((2, width), dtype=np.float32))
    short["inputs"][0]["data"] = short["inputs"][0]["data"][:-1]
    expect_error(c, "POST", infer, short, 400, ["values for shape"], "wrong shape")
    text = dict(good)
    text["inputs"] = [dict(good["inputs"][0], datatype="BYTES", data=["hello"])]
    expect_error(c, "POST", infer, text, 400, ["BYTES"], "BYTES input")
    expect_error(c, "POST", "/v2/models/nosuch/infer", good, 404, ["unknown model 'nosuch'"], "unknown model")
    expect_error(c, "GET", "/v2/models/nosuch", None, 404, ["unknown model"], "unknown model metadata")
    expect_error(c, "GET", "/nothing/here", None, 404, ["no endpoint"], "unknown path")
    # The server is unharmed: health, metadata and a good request still work.
    for path in ("/v2/health/live", "/v2/health/ready", f"/v2/models/{model}/ready"):
        status, _ = c.json("GET", path)
        if status != 200:
            fail(f"GET {path}: HTTP {status} after bad requests")
    status, meta = c.json("GET", f"/v2/models/{model}")
    if status != 200 or meta["inputs"][0]["shape"] != [-1, width] or meta["name"] != model:
        fail(f"metadata: {status} {meta}")
    status, answer = c.json("POST", infer, good)
    if status != 200:
        fail(f"good request after bad ones: HTTP {status} {answer}")
    print("after the bad requests: live, ready, metadata and a good request all answer 200")
    c.close()


def too_large(url, model, limit):
    c = Client(url)
    body = b'{"inputs": [' + b" " * (int(limit) + 100) + b"]}"
    expect_error(c, "POST", f"/v2/models/{model}/infer", body, 413, ["--max-body-bytes"], "body too large")
    c.close()
    c = Client(url)
    status, _ = c.json("GET", "/v2/health/live")
    if status != 200:
        fail(f"live after a too large body: HTTP {status}")
    c.close()


def rows_of(i, rows, total):
    return [(i * rows + j) % total for j in range(rows)]


def overload(url, model, data, predict, clients, rows):
    """All clients at once against a tiny queue: some must get 503 busy, the rest right answers."""
    expected = Expected(data, predict)
    statuses, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(clients, timeout=60)

    def client(i):
        c = Client(url)
        c.json("GET", "/v2/health/live")  # connected before the burst
        index = rows_of(i, rows, expected.features.shape[0])
        body = json.dumps(infer_body(expected.features[index])).encode()
        barrier.wait()
        status, answer = c.json("POST", f"/v2/models/{model}/infer", body)
        problem = None
        if status == 200:
            problem = expected.compare(answer, index, f"client {i}")
        elif status != 503 or "server busy" not in answer.get("error", ""):
            problem = f"client {i}: HTTP {status} {answer}"
        with lock:
            statuses.append(status)
            if problem:
                errors.append(problem)
        c.close()

    run_threads(clients, client)
    busy, ok = statuses.count(503), statuses.count(200)
    if errors:
        fail("overload: " + "; ".join(errors[:3]))
    if busy == 0 or ok == 0:
        fail(f"overload: {ok} answered, {busy} refused; expected both")
    print(f"overload: {ok} answered correctly, {busy} refused at once with 503 'server busy'")


def metric(url, name):
    c = Client(url)
    status, _, raw = c.request("GET", "/metrics")
    c.close()
    if status != 200:
        fail(f"/metrics: HTTP {status}")
    for line in raw.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    fail(f"/metrics has no line '{name} ...'")


def wait_metric(url, name, value, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if metric(url, name) == float(value):
            return
        time.sleep(0.05)
    fail(f"{name} did not reach {value} within {seconds} s (last {metric(url, name)})")


def drain(url, model, data, predict, clients, rows, pid):
    """SIGTERM once all requests are in flight (long to score, one at a time): all answered."""
    expected = Expected(data, predict)
    results = [None] * clients
    indexes = [rows_of(i, rows, expected.features.shape[0]) for i in range(clients)]
    bodies = [json.dumps(infer_body(expected.features[index])).encode() for index in indexes]

    def client(i):
        c = Client(url)
        index = indexes[i]
        try:
            status, answer = c.json("POST", f"/v2/models/{model}/infer", bodies[i])
        except OSError as e:
            results[i] = f"client {i}: {e!r}"
            return
        results[i] = (expected.compare(answer, index, f"client {i}") if status == 200
                      else f"client {i}: HTTP {status} {answer}")
        c.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    wait_metric(url, "dptrain_serve_requests_in_flight", clients)
    queued = metric(url, "dptrain_serve_queue_depth")
    os.kill(pid, signal.SIGTERM)
    print(f"SIGTERM sent with {clients} requests in flight, {queued:g} of them waiting in the queue")
    for t in threads:
        t.join(timeout=60)
    problems = [r for r in results if r is not None]
    if any(t.is_alive() for t in threads) or problems:
        fail("drain: " + "; ".join(map(str, problems[:3])) if problems else "drain: a client hung")
    print(f"drain: all {clients} in-flight requests answered correctly after SIGTERM")


def main(argv):
    mode = argv[1]
    if mode == "check":
        check(argv[2], argv[3], argv[4], argv[5], int(argv[6]), int(argv[7]),
              int(argv[8]) if len(argv) > 8 else 8)
    elif mode == "bad":
        bad(argv[2], argv[3], int(argv[4]))
    elif mode == "too-large":
        too_large(argv[2], argv[3], argv[4])
    elif mode == "overload":
        overload(argv[2], argv[3], argv[4], argv[5], int(argv[6]), int(argv[7]))
    elif mode == "drain":
        drain(argv[2], argv[3], argv[4], argv[5], int(argv[6]), int(argv[7]), int(argv[8]))
    elif mode == "metric":
        print(f"{metric(argv[2], argv[3]):g}")
    elif mode == "wait-metric":
        wait_metric(argv[2], argv[3], argv[4])
    else:
        fail(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
