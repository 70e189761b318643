#!/usr/bin/env python3
"""Where a training step's time goes, from `dptrain train --timeline` traces: for each trace, the
median over steps of every per-step span on one rank ("batch" gathering rows, "forward/backward"
less the batch = the gradient, the exchange spans, "update") and of the whole step (start of one
forward/backward to the next). A span's own time excludes the per-step spans inside it (the
batch inside forward/backward; the parameter exchange inside the node exchange's fused update),
so the parts add up to the step. Usage: scripts/step_breakdown.py [--rank R] TRACE.json..."""
import argparse, bisect, json, statistics

PER_STEP = ("batch", "forward/backward", "allreduce wait", "node wait", "node sum", "update", "parameter exchange",
            "parameter allgather")
ap = argparse.ArgumentParser()
ap.add_argument("--rank", type=int, default=0)
ap.add_argument("traces", nargs="+")
args = ap.parse_args()
for path in args.traces:
    # By start, an enclosing span before the spans it encloses (they may start at the same tick).
    spans = sorted((e for e in json.load(open(path))["traceEvents"]
                    if e.get("ph") == "X" and e["pid"] == args.rank and e["name"] in PER_STEP),
                   key=lambda e: (e["ts"], -e["dur"]))
    starts = [e["ts"] for e in spans]
    own = {name: [] for name in PER_STEP}
    for i, e in enumerate(spans):
        end = e["ts"] + e["dur"]
        inner = 0
        for j in range(i + 1, bisect.bisect_right(starts, end)):
            if spans[j]["ts"] + spans[j]["dur"] <= end:
                inner += spans[j]["dur"]
        own[e["name"]].append((e["dur"] - inner) / 1000)
    steps_at = [e["ts"] for e in spans if e["name"] == "forward/backward"]
    # Steps that do not span a validation pass or a checkpoint (the gap to the next step is short).
    gaps = [(b - a) / 1000 for a, b in zip(steps_at, steps_at[1:])]
    typical = statistics.median(gaps) if gaps else 0
    steps = [g for g in gaps if g < 3 * typical]
    parts = [f"{'gradient' if name == 'forward/backward' else name} {statistics.median(own[name]):.3f}"
             for name in PER_STEP if own[name]]
    print(f"{path}: step {statistics.median(steps):.3f} ms (median of {len(steps)}) = " + " + ".join(parts))
