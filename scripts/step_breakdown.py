#!/usr/bin/env python3
"""Where a training step's time goes, from `dptrain train --timeline` traces: for each trace, the
median over steps of every per-step span on one rank ("batch" gathering rows, "forward/backward"
less the batch = the gradient, the exchange spans, "update") and of the whole step (start of one
forward/backward to the next). Usage: scripts/step_breakdown.py [--rank R] TRACE.json..."""
import argparse, json, statistics

PER_STEP = ("batch", "forward/backward", "allreduce wait", "node wait", "node sum", "update", "parameter exchange",
            "parameter allgather")
ap = argparse.ArgumentParser()
ap.add_argument("--rank", type=int, default=0)
ap.add_argument("traces", nargs="+")
args = ap.parse_args()
for path in args.traces:
    spans = [e for e in json.load(open(path))["traceEvents"] if e.get("ph") == "X" and e["pid"] == args.rank]
    by = {name: [e["dur"] / 1000 for e in spans if e["name"] == name] for name in PER_STEP}
    starts = sorted(e["ts"] for e in spans if e["name"] == "forward/backward")
    # Steps that do not span a validation pass or a checkpoint (the gap to the next step is short).
    gaps = [(b - a) / 1000 for a, b in zip(starts, starts[1:])]
    typical = statistics.median(gaps) if gaps else 0
    steps = [g for g in gaps if g < 3 * typical]
    parts = []
    for name in PER_STEP:
        if not by[name]:
            continue
        med = statistics.median(by[name])
        if name == "forward/backward" and by["batch"]:
            parts.append(f"gradient {med - statistics.median(by['batch']):.3f}")
        else:
            parts.append(f"{name} {med:.3f}")
    print(f"{path}: step {statistics.median(steps):.3f} ms (median of {len(steps)}) = " + " + ".join(parts))
