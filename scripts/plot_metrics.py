#!/usr/bin/python3
"""Plots dptrain metrics files (JSONL or CSV, one row per epoch) into one PNG.

  scripts/plot_metrics.py -o curves.png runs/a/metrics.jsonl
  scripts/plot_metrics.py -o ranks.png "1 rank=runs/p1/metrics.jsonl" "2 ranks=runs/p2/metrics.csv" ...
  scripts/plot_metrics.py -o sweep.png runs/sweep-123/*/metrics.jsonl

Every file is one run (one line per run in each panel); `LABEL=FILE` names it, otherwise the
label is the run's folder (or file) name plus its ranks x threads. Panels: loss (train solid,
validation dashed), accuracy (classifiers only) and throughput (samples/s per epoch), so
runs that differ in ranks, threads or hyperparameters can be compared at a glance.
Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402


def read_rows(path):
    """The epoch rows of a metrics file, as dicts of floats (None where empty or null)."""
    with open(path, newline="") as f:
        if path.lower().endswith(".csv"):
            rows = [{k: (float(v) if v not in ("", None) else None) for k, v in r.items()}
                    for r in csv.DictReader(f)]
        else:
            rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        raise ValueError(f"{path}: no epochs in the file")
    if "epoch" not in rows[0] or "train_loss" not in rows[0]:
        raise ValueError(f"{path}: not a dptrain metrics file (no 'epoch'/'train_loss' column)")
    return rows


def default_label(path, rows):
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    stem = os.path.splitext(os.path.basename(path))[0]
    name = parent if stem in ("metrics", "run") and parent else stem
    ranks, threads = rows[-1].get("ranks"), rows[-1].get("threads")
    if ranks is not None and threads is not None:
        name += f" ({int(ranks)}x{int(threads)})"
    return name


def column(rows, key):
    return [r.get(key) for r in rows]


def plot(runs, output, title):
    has_accuracy = any(v is not None for _, rows in runs for v in column(rows, "train_accuracy"))
    panels = ["loss"] + (["accuracy"] if has_accuracy else []) + ["throughput"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    axes = dict(zip(panels, axes[0]))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, rows) in enumerate(runs):
        color = colors[i % len(colors)]
        epochs = column(rows, "epoch")

        def line(ax, key, style, legend):
            points = [(e, v) for e, v in zip(epochs, column(rows, key)) if v is not None]
            if points:
                ax.plot(*zip(*points), style, color=color, label=label if legend else None, marker=".")

        # One legend entry per run (its solid line); dashed lines are validation.
        line(axes["loss"], "train_loss", "-", True)
        line(axes["loss"], "val_loss", "--", False)
        if has_accuracy:
            line(axes["accuracy"], "train_accuracy", "-", True)
            line(axes["accuracy"], "val_accuracy", "--", False)
        line(axes["throughput"], "samples_per_s", "-", True)
    has_val = any(v is not None for _, rows in runs for v in column(rows, "val_loss"))
    axes["loss"].set_title("loss" + (" (solid: train, dashed: validation)" if has_val else ""), fontsize=9)
    axes["loss"].set_ylabel("loss")
    axes["loss"].set_yscale("log")
    if has_accuracy:
        axes["accuracy"].set_ylabel("accuracy")
        axes["accuracy"].set_title("accuracy" + (" (solid: train, dashed: validation)" if has_val else ""),
                                   fontsize=9)
    axes["throughput"].set_ylabel("samples/s")
    axes["throughput"].set_title("training throughput", fontsize=9)
    axes["throughput"].set_ylim(bottom=0)
    for ax in axes.values():
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="[LABEL=]FILE", help="metrics files (.jsonl or .csv)")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--title", default="", help="figure title")
    args = parser.parse_args()
    runs = []
    for spec in args.runs:
        label, sep, path = spec.rpartition("=")
        if not sep or not os.path.exists(path):
            label, path = "", spec
        try:
            rows = read_rows(path)
        except (OSError, ValueError) as e:
            sys.exit(f"plot_metrics.py: {e}")
        runs.append((label or default_label(path, rows), rows))
    plot(runs, args.output, args.title)
    print(f"plot_metrics.py: {len(runs)} run(s) -> {args.output}")


if __name__ == "__main__":
    main()
