#!/usr/bin/env python3
"""Driver of scripts/bench.sh: runs every configuration once, back to back, on the same data,
and writes the results (commands, date, machine, load) into BENCHMARKS.md between the
bench:main markers. Every figure in the report is a ratio of two runs of this one invocation.

What it measures (see BENCHMARKS.md, "Reading the figures"):
- the roof: `dptrain bench`, the single-thread float GEMM the model multiplies with (oneDNN's
  sgemm when the build has it; Eigen's is measured beside it) on the real products of a step
  (forward, weight gradient, input gradient of every layer but the first), warm, best of many;
- mlp:256,128 on Fashion-MNIST, batch 256: dptrain 1x1, 2x1, 1x2 (ranks x threads) against
  PyTorch DDP (gloo) 1x1 and 2x1 on the system BLAS (OpenBLAS once libopenblas0-pthread is in);
- --deterministic against the normal step, on mlp:256,128 and softmax (whole runs, and one
  rank's step in-process with `dptrain bench --step`);
- softmax on 1 and 2 ranks;
- mlp:4096,4096 on 2 ranks: dptrain's default environment, glibc tuned by environment
  variables, and glibc's own defaults (DPTRAIN_SYSTEM_MALLOC=1); and 1 rank for the scaling;
- 2x1 with --exchange mpi (the MPI allreduce) beside the default (auto: the node's shared memory),
  for both models and under load;
- 1x1, 2x1, 1x2 again with one competing busy process (`yes > /dev/null`), and 1x2 with
  libgomp's own spin default (GOMP_SPINCOUNT=300000)."""
import argparse, datetime, json, os, platform, re, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--epochs", type=int, default=4, help="epochs per Fashion-MNIST run (the first is not timed)")
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--rounds", type=int, default=3,
                help="times the runs behind the targets are repeated, interleaved (the others run once); each "
                     "figure is the median over rounds, each ratio the median of the rounds' ratios (this "
                     "machine's speed drifts within minutes)")
ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
args = ap.parse_args()
root = args.root
dptrain = os.path.join(os.environ.get("DPTRAIN_BUILD_DIR", os.path.join(root, "build")), "dptrain")
work = os.path.join(root, "runs", "bench")
os.makedirs(work, exist_ok=True)
src = "/usr/share/datasets/fashion-mnist"
train, test, wide = (os.path.join(work, n) for n in ("train.h5", "t10k.h5", "wide.h5"))
for part, out in (("train", train), ("t10k", test)):
    if not os.path.exists(out):
        subprocess.run([dptrain, "convert", "--from", "idx", "--input", f"{src}/{part}-images-idx3-ubyte.gz",
                        "--labels", f"{src}/{part}-labels-idx1-ubyte.gz", "--out", out], check=True,
                       stdout=subprocess.DEVNULL)
WIDE_ROWS = 2048
if not os.path.exists(wide):
    subprocess.run([dptrain, "gen", "--out", wide, "--rows", str(WIDE_ROWS), "--features", "784", "--classes", "10",
                    "--seed", "1"], check=True, stdout=subprocess.DEVNULL)

MLP, WIDE, SOFTMAX = "mlp:256,128", "mlp:4096,4096", "softmax"
started = time.time()
load_before = os.getloadavg()


def mpirun(ranks, threads, env=(), bind_none=False):
    bind = ["--bind-to", "core"] if threads == 1 and not bind_none else ["--bind-to", "none"]
    extra = []
    for e in env:
        extra += ["-x", e]
    return ["mpirun", "-np", str(ranks)] + bind + ["-x", f"OMP_NUM_THREADS={threads}"] + extra


def steady(rows, key):
    """Mean of a per-epoch value over the epochs after the first (warm-up)."""
    use = rows[1:] if len(rows) > 1 else rows
    return sum(r[key] for r in use) / len(use)


def best(rows, key="samples_per_s"):
    """The best epoch after the first: on a machine shared with other work, the epoch least
    disturbed by it (the mean is reported next to it)."""
    use = rows[1:] if len(rows) > 1 else rows
    return max(r[key] for r in use)


def run_dptrain(label, ranks, threads, model=MLP, extra=(), env=(), data=None, epochs=None, lr="0.05", bind_none=False):
    metrics = os.path.join(work, f"{label}.jsonl")
    data = data or train
    cmd = mpirun(ranks, threads, env, bind_none) + [dptrain, "train", "--data", data, "--model", model, "--threads", str(threads),
                                         "--progress", "off", "--metrics", metrics,
                                         "--epochs", str(epochs or args.epochs), "--batch", str(args.batch),
                                         "--lr", lr, "--optimizer", "momentum"] + list(extra)
    if data == train:
        cmd[cmd.index("--model"):cmd.index("--model")] = ["--val", test]
    if os.path.exists(metrics):
        os.remove(metrics)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rows = [json.loads(line) for line in open(metrics)]
    use = rows[1:] if len(rows) > 1 else rows
    return {"label": label, "tool": "dptrain", "ranks": ranks, "threads": threads, "model": model,
            "samples_per_s": best(rows), "mean_samples_per_s": steady(rows, "samples_per_s"),
            "comm_fraction": sum(r["comm_s"] for r in use) / sum(r["epoch_s"] for r in use),
            "val_accuracy": rows[-1].get("val_accuracy"), "peak_rss_mb": rows[-1].get("peak_rss_mb"),
            "command": " ".join(cmd).replace(root + "/", "")}


def run_torch(label, ranks, threads):
    cmd = mpirun(ranks, threads) + ["/usr/bin/python3", os.path.join(root, "scripts", "pytorch_ddp.py"),
                                    "--data", train, "--val", test, "--hidden", "256,128", "--threads", str(threads),
                                    "--epochs", str(args.epochs), "--batch", str(args.batch), "--lr", "0.05"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {"label": label, "tool": "pytorch", "ranks": ranks, "threads": threads, "model": MLP,
            "samples_per_s": best(rows), "mean_samples_per_s": steady(rows, "samples_per_s"),
            "comm_fraction": None, "val_accuracy": rows[-1]["val_accuracy"], "peak_rss_mb": None,
            "command": " ".join(cmd).replace(root + "/", "")}


def bench(*extra, cpu=None):
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    out = subprocess.run(pin + [dptrain, "bench"] + list(extra), check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def peer_info():
    """PyTorch's version, its BLAS as torch reports it, the library the system libblas.so.3 resolves
    to, and a single-thread matmul rate at the first layer's shape (is the BLAS a fast one?)."""
    code = r"""
import json, re, time, torch
torch.set_num_threads(1)
cfg = torch.__config__.show()
blas = re.findall(r"(BLAS_INFO=[^,]+)", cfg)
a, b = torch.randn(128, 784), torch.randn(784, 256)
for _ in range(5): a @ b
t = time.perf_counter(); n = 0
while time.perf_counter() - t < 1.0:
    a @ b; n += 1
print(json.dumps({"version": torch.__version__, "blas": blas,
                  "gflops": 2 * 128 * 784 * 256 * n / (time.perf_counter() - t) / 1e9}))
"""
    info = json.loads(subprocess.run(["/usr/bin/python3", "-c", code], check=True, capture_output=True,
                                     text=True).stdout)
    info["libblas"] = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return info


class Competitor:
    """One busy process (`yes > /dev/null`) for the loaded-machine runs."""

    def __enter__(self):
        self.proc = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL)
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


print("peer and roof ...", flush=True)
peer = peer_info()
half = args.batch // 2
roof_half = bench("--model", MLP, "--rows", str(half), "--seconds", "2")
roof_full = bench("--model", MLP, "--rows", str(args.batch), "--seconds", "2")
# The cores of a VM need not be equal (here one ran 10% slower than the other, alone or both
# busy): the two-core limit is the sum of each core's own roof at a rank's share.
cpus = sorted(os.sched_getaffinity(0))[:2]
roof_runs = [bench("--model", MLP, "--rows", str(half), "--seconds", "2", cpu=c) for c in cpus]
roof_cores = [r["gemm_gflops_per_core"] for r in roof_runs]
eigen_cores = [r["eigen_gemm_gflops_per_core"] for r in roof_runs]
# The same products' mean rate over all repetitions, and the share of each core that a loop reading
# the clock never gets (timer ticks, hypervisor exits): the best repetition fell between them.
sustained_cores = [r["gemm_gflops_sustained"] for r in roof_runs]
lost_cores = [r["interrupted_share"] for r in roof_runs]
gaps_cores = [r["interruptions_per_second"] for r in roof_runs]
gap_us_cores = [r["interruption_median_us"] for r in roof_runs]
step_mlp = bench("--model", MLP, "--rows", str(half), "--step", "--seconds", "3")
step_soft = bench("--model", SOFTMAX, "--rows", str(half), "--step", "--seconds", "2")

plan = [
    ("dptrain-1x1", lambda: run_dptrain("dptrain-1x1", 1, 1)),
    ("dptrain-2x1", lambda: run_dptrain("dptrain-2x1", 2, 1)),
    ("dptrain-1x2", lambda: run_dptrain("dptrain-1x2", 1, 2)),
    ("pytorch-1x1", lambda: run_torch("pytorch-1x1", 1, 1)),
    ("pytorch-2x1", lambda: run_torch("pytorch-2x1", 2, 1)),
    ("dptrain-2x1-exchange-mpi", lambda: run_dptrain("dptrain-2x1-exchange-mpi", 2, 1, extra=["--exchange", "mpi"])),
    ("dptrain-2x1-overlap-off", lambda: run_dptrain("dptrain-2x1-overlap-off", 2, 1,
                                                    extra=["--exchange", "mpi", "--overlap", "off"])),
    ("dptrain-2x1-shard-update", lambda: run_dptrain("dptrain-2x1-shard-update", 2, 1,
                                                     extra=["--shard-update", "on"])),
    ("dptrain-2x1-deterministic", lambda: run_dptrain("dptrain-2x1-deterministic", 2, 1, extra=["--deterministic"])),
    ("softmax-1x1", lambda: run_dptrain("softmax-1x1", 1, 1, model=SOFTMAX)),
    ("softmax-2x1", lambda: run_dptrain("softmax-2x1", 2, 1, model=SOFTMAX)),
    ("softmax-2x1-deterministic", lambda: run_dptrain("softmax-2x1-deterministic", 2, 1, model=SOFTMAX,
                                                      extra=["--deterministic"])),
    ("wide-2x1", lambda: run_dptrain("wide-2x1", 2, 1, model=WIDE, data=wide, epochs=3, lr="0.005")),
    ("wide-2x1-tuned-env", lambda: run_dptrain("wide-2x1-tuned-env", 2, 1, model=WIDE, data=wide, epochs=3, lr="0.005",
                                               env=["MALLOC_MMAP_THRESHOLD_=1073741824",
                                                    "MALLOC_TRIM_THRESHOLD_=4294967295"])),
    ("wide-2x1-glibc-defaults", lambda: run_dptrain("wide-2x1-glibc-defaults", 2, 1, model=WIDE, data=wide,
                                                    epochs=3, lr="0.005", env=["DPTRAIN_SYSTEM_MALLOC=1"])),
    ("wide-2x1-shard-update", lambda: run_dptrain("wide-2x1-shard-update", 2, 1, model=WIDE, data=wide, epochs=3,
                                                  lr="0.005", extra=["--shard-update", "on"])),
    ("wide-2x1-exchange-mpi", lambda: run_dptrain("wide-2x1-exchange-mpi", 2, 1, model=WIDE, data=wide, epochs=3,
                                                  lr="0.005", extra=["--exchange", "mpi"])),
    ("wide-1x1", lambda: run_dptrain("wide-1x1", 1, 1, model=WIDE, data=wide, epochs=3, lr="0.005")),
]
loaded_plan = [
    ("loaded-1x1", lambda: run_dptrain("loaded-1x1", 1, 1)),
    ("loaded-2x1", lambda: run_dptrain("loaded-2x1", 2, 1)),
    ("loaded-2x1-exchange-mpi", lambda: run_dptrain("loaded-2x1-exchange-mpi", 2, 1, extra=["--exchange", "mpi"])),
    ("loaded-2x1-bind-none", lambda: run_dptrain("loaded-2x1-bind-none", 2, 1, bind_none=True)),
    ("loaded-2x1-spin-only", lambda: run_dptrain("loaded-2x1-spin-only", 2, 1, env=["DPTRAIN_WAIT_SPIN_US=1000000000"])),
    ("loaded-2x1-yield-at-once", lambda: run_dptrain("loaded-2x1-yield-at-once", 2, 1, env=["DPTRAIN_WAIT_SPIN_US=0"])),
    ("loaded-2x1-bind-none-yield-at-once", lambda: run_dptrain("loaded-2x1-bind-none-yield-at-once", 2, 1,
                                                               env=["DPTRAIN_WAIT_SPIN_US=0"], bind_none=True)),
    ("loaded-1x2", lambda: run_dptrain("loaded-1x2", 1, 2)),
    ("loaded-1x2-gomp-default-spin", lambda: run_dptrain("loaded-1x2-gomp-default-spin", 1, 2,
                                                         env=["GOMP_SPINCOUNT=300000"])),
    ("loaded-2x1-pytorch", lambda: run_torch("loaded-2x1-pytorch", 2, 1)),
]
def run_all(steps):
    done = {}
    for name, fn in steps:
        print(f"running {name} ...", flush=True)
        r = fn()
        print(json.dumps(r), flush=True)
        done[name] = r
    return done


# The runs behind the targets repeat in every round; the others (comparisons, not targets) run
# in the first round only.
REPEATED = {"dptrain-1x1", "dptrain-2x1", "dptrain-1x2", "pytorch-2x1", "dptrain-2x1-deterministic", "softmax-1x1",
            "softmax-2x1", "softmax-2x1-deterministic", "wide-2x1", "wide-2x1-tuned-env", "wide-1x1",
            "loaded-1x1", "loaded-2x1", "loaded-1x2"}
rounds = []
for i in range(args.rounds):
    print(f"round {i + 1} of {args.rounds}", flush=True)
    rounds.append(run_all([(name, fn) for name, fn in plan if i == 0 or name in REPEATED]))
    # A new competitor each round: where the scheduler first puts it changes a loaded run 2x.
    with Competitor():
        rounds[-1].update(run_all([(name, fn) for name, fn in loaded_plan if i == 0 or name in REPEATED]))
load_after = os.getloadavg()
elapsed = time.time() - started


def median(values):
    v = sorted(values)
    return v[(len(v) - 1) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


# A quiet run's row: the round with the median samples/s (its accuracy, RSS, command), and
# every round's figure.
by = {}
for name, _ in plan + loaded_plan:
    runs = sorted((r[name] for r in rounds if name in r), key=lambda r: r["samples_per_s"])
    by[name] = dict(runs[(len(runs) - 1) // 2], samples_per_s=median([r["samples_per_s"] for r in runs]),
                    mean_samples_per_s=median([r["mean_samples_per_s"] for r in runs]),
                    per_round=[r[name]["samples_per_s"] for r in rounds if name in r] if len(runs) > 1 else [])
results = [by[name] for name, _ in plan] + [by[name] for name, _ in loaded_plan]


def sps(label):
    return by[label]["samples_per_s"]


def ratio(a, b, scale=1.0):
    """sps(a) / (scale * sps(b)) as the median of the rounds' ratios (each round's pair ran minutes
    apart at most), and the list of them."""
    each = [r[a]["samples_per_s"] / (scale * r[b]["samples_per_s"]) for r in rounds if a in r and b in r]
    return median(each), each


def spread(each):
    return "rounds: " + ", ".join(f"{x:.2f}" for x in each)


flops = roof_half["step_flops_per_sample"]


def real_gflops(label):
    return flops * sps(label) / 1e9


cpu = "unknown CPU"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
machine = (f"{cpu}, {os.cpu_count()} cores, "
           f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.platform()}")
date = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
roof2 = sum(roof_cores) if len(roof_cores) == 2 else 2 * roof_half["gemm_gflops_per_core"]
eigen2 = sum(eigen_cores) if len(eigen_cores) == 2 else 2 * roof_half["eigen_gemm_gflops_per_core"]
sustained2 = sum(sustained_cores) if len(sustained_cores) == 2 else 2 * roof_half["gemm_gflops_sustained"]
ratio_torch, torch_each = ratio("dptrain-2x1", "pytorch-2x1")
bound_sps = 2 * half / (step_mlp["step_ms"] / 1e3)  # 2 ranks, each a step of `half` rows, nothing else
share_each = [flops * r["dptrain-2x1"]["samples_per_s"] / 1e9 / roof2 for r in rounds]
share_roof = median(share_each)
scaling, scaling_each = ratio("dptrain-2x1", "dptrain-1x1", 2)
scaling_threads, _ = ratio("dptrain-1x2", "dptrain-1x1", 2)
wide_default_vs_tuned, wide_tuned_each = ratio("wide-2x1", "wide-2x1-tuned-env")
wide_glibc_vs_tuned, _ = ratio("wide-2x1-glibc-defaults", "wide-2x1-tuned-env")
wide_scaling, wide_scaling_each = ratio("wide-2x1", "wide-1x1", 2)
det_mlp, det_mlp_each = ratio("dptrain-2x1", "dptrain-2x1-deterministic")
det_soft, det_soft_each = ratio("softmax-2x1", "softmax-2x1-deterministic")
soft_scaling, soft_each = ratio("softmax-2x1", "softmax-1x1")


def verdict(ok):
    return "met" if ok else "NOT met"


def acc(label):
    a = by[label]["val_accuracy"]
    return f"{a:.4f}" if a is not None else "-"


lines = [
    f"Measured {date} with `scripts/bench.sh --epochs {args.epochs} --rounds {args.rounds}` ({elapsed:.0f} s, every row "
    f"from this one run) on: {machine}.",
    f"The runs behind the targets ran {args.rounds} times, interleaved (round 1: every run once, then the repeated ones "
    "again in round 2, ...; the other comparisons ran in round 1 only); a run's figure is "
    "the median over the rounds, a ratio the median of the rounds' ratios (each round's pair ran minutes apart at most), "
    "with every round's ratio after it. Each round's loaded-machine runs follow its quiet ones, beside a new competitor.",
    f"Load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
    f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (the loaded-machine rows add one busy process "
    "themselves).",
    f"PyTorch peer: torch {peer['version']}, BLAS as torch reports it: {'; '.join(peer['blas']) or 'not reported'}; "
    f"system libblas.so.3 -> `{peer['libblas']}`; one thread multiplies 128x784 by 784x256 at "
    f"{peer['gflops']:.1f} GFLOP/s.",
    f"Fashion-MNIST (60000 x 784 train, 10000 test), batch {args.batch} (global), lr 0.05, momentum 0.9, "
    f"{args.epochs} epochs; samples/s is the best of epochs 2..{args.epochs} (the epoch least disturbed by other work on "
    f"the machine; the mean is in the table), accuracy is test accuracy after the last epoch. mlp:4096,4096: "
    f"{WIDE_ROWS} synthetic rows (`dptrain gen`), 3 epochs, best of epochs 2..3.",
    "",
    "| target (issue 15) | measured | |",
    "|---|---|---|",
    f"| mlp:256,128 2x1 >= 5x PyTorch DDP (gloo, OpenBLAS) at equal accuracy | {ratio_torch:.2f}x "
    f"({sps('dptrain-2x1'):,.0f} vs {sps('pytorch-2x1'):,.0f} samples/s; accuracy {acc('dptrain-2x1')} vs "
    f"{acc('pytorch-2x1')}; {spread(torch_each)}) | {verdict(ratio_torch >= 5)} |",
    f"| >= 80% of the two-core GEMM limit in real flops | {100 * share_roof:.0f}% ({real_gflops('dptrain-2x1'):.1f} of "
    f"{' + '.join(f'{g:.1f}' for g in roof_cores)} GFLOP/s, each core's {roof_half['gemm']} roof; {spread(share_each)}; "
    f"of the sustained limit, the same GEMMs' mean rate over all repetitions, {sustained2:.1f} GFLOP/s: "
    f"{100 * real_gflops('dptrain-2x1') / sustained2:.0f}%; of Eigen's GEMM limit, {eigen2:.1f} GFLOP/s: "
    f"{100 * real_gflops('dptrain-2x1') / eigen2:.0f}%) | {verdict(share_roof >= 0.8)} |",
    f"| scaling 1x1 -> 2x1 >= 0.9 (goal 0.95) | {scaling:.2f} ({spread(scaling_each)}; 1x2: {scaling_threads:.2f}) | "
    f"{verdict(scaling >= 0.9)} |",
    f"| mlp:4096,4096 2x1: default environment within 10% of tuned malloc | {wide_default_vs_tuned:.2f} "
    f"({spread(wide_tuned_each)}; glibc's own defaults: {wide_glibc_vs_tuned:.2f}) | "
    f"{verdict(wide_default_vs_tuned >= 0.9)} |",
    f"| mlp:4096,4096 scaling 1x1 -> 2x1 >= 0.9 | {wide_scaling:.2f} ({spread(wide_scaling_each)}) | "
    f"{verdict(wide_scaling >= 0.9)} |",
    f"| (not a target) 2x1 default (--exchange auto) / --exchange mpi | mlp:256,128: "
    f"{ratio('dptrain-2x1', 'dptrain-2x1-exchange-mpi')[0]:.2f}; mlp:4096,4096: "
    f"{ratio('wide-2x1', 'wide-2x1-exchange-mpi')[0]:.2f}; loaded mlp:256,128: "
    f"{sps('loaded-2x1') / sps('loaded-2x1-exchange-mpi'):.2f} | - |",
    f"| (not a target) --shard-update on, 2x1 / default | mlp:256,128: "
    f"{ratio('dptrain-2x1-shard-update', 'dptrain-2x1')[0]:.2f}; "
    f"mlp:4096,4096: {ratio('wide-2x1-shard-update', 'wide-2x1')[0]:.2f} | - |",
    f"| --deterministic <= 2x the normal step (goal 1.5x), mlp:256,128 2x1 | {det_mlp:.2f}x (one rank's step in-process: "
    f"{step_mlp['deterministic_ratio']:.2f}x; {spread(det_mlp_each)}) | {verdict(det_mlp <= 2)} |",
    f"| --deterministic <= 2x, softmax 2x1 | {det_soft:.2f}x (in-process: {step_soft['deterministic_ratio']:.2f}x; "
    f"{spread(det_soft_each)}) | "
    f"{verdict(det_soft <= 2)} |",
    f"| beside one busy process, no collapse (with / without it) | 1x1 {ratio('loaded-1x1', 'dptrain-1x1')[0]:.2f}, "
    f"2x1 {ratio('loaded-2x1', 'dptrain-2x1')[0]:.2f} ({spread(ratio('loaded-2x1', 'dptrain-2x1')[1])}), "
    f"1x2 {ratio('loaded-1x2', 'dptrain-1x2')[0]:.2f}; a synchronous 2x1 step whose slower rank gets half a core: "
    f"about 0.5 | - |",
    f"| softmax: 2 ranks never slower than 1 | 2x1 / 1x1 = {soft_scaling:.2f} ({spread(soft_each)}) | "
    f"{verdict(min(soft_each) >= 1)} |",
    "",
    f"Roof: `dptrain bench --rows {half}` (a rank's share at 2x1) with the GEMM the model uses, "
    f"{roof_half['gemm']}: **{roof_half['gemm_gflops_per_core']:.1f} GFLOP/s** "
    f"per core (median {roof_half['gemm_gflops_median']:.1f}; {roof_half['page_faults_per_rep']:.2f} page faults per "
    f"repetition; Eigen's GEMM on the same products: {roof_half['eigen_gemm_gflops_per_core']:.1f}); at {args.batch} "
    f"rows (1x1): {roof_full['gemm_gflops_per_core']:.1f}; pinned to each core "
    f"(`taskset -c N`, {half} rows): {', '.join(f'cpu {c} {g:.1f}' for c, g in zip(cpus, roof_cores))} GFLOP/s, "
    f"whose sum is the two-core limit (Eigen's: {', '.join(f'{g:.1f}' for g in eigen_cores)}). Sustained, the mean over "
    f"all repetitions: {', '.join(f'{g:.1f}' for g in sustained_cores)} GFLOP/s "
    f"({100 * sustained2 / roof2:.0f}% of the best): the machine takes "
    f"{', '.join(f'{100 * x:.1f}%' for x in lost_cores)} of each core (a loop reading the clock misses that share: "
    f"{', '.join(f'{g:.0f}' for g in gaps_cores)} gaps a second, median "
    f"{', '.join(f'{g:.0f}' for g in gap_us_cores)} us), and the best repetition is one that "
    f"no gap fell into. Real flops per sample of "
    f"mlp:256,128: {flops:,.0f} (forward and weight gradient of every layer, input gradient of all but the first; "
    f"with biases) = {flops / 235146:.2f} x parameters.",
    f"Bound from the gradient alone: `dptrain bench --step --rows {half}` (one rank's forward, backward and thread sum, "
    f"in-process) takes {step_mlp['step_ms']:.3f} ms = {flops * half / step_mlp['step_ms'] / 1e6:.1f} GFLOP/s "
    f"({100 * flops * half / step_mlp['step_ms'] / 1e6 / roof_half['gemm_gflops_per_core']:.0f}% of the roof). "
    f"Two ranks with no batch gathering, exchange or update at all would run {bound_sps:,.0f} samples/s: "
    f"{bound_sps / sps('pytorch-2x1'):.2f}x this run's PyTorch DDP and {100 * bound_sps * flops / 1e9 / roof2:.0f}% of "
    f"the GEMM limit; dptrain 2x1 reached {100 * sps('dptrain-2x1') / bound_sps:.0f}% of that bound.",
    "",
    "| run | model | ranks x threads | samples/s (best epoch) | mean | each round | real GFLOP/s (best) | comm fraction | "
    "test acc | peak RSS/rank MB |",
    "|---|---|---|---:|---:|---|---:|---:|---:|---:|",
]
for r in results:
    gf = f"{flops * r['samples_per_s'] / 1e9:.1f}" if r["model"] == MLP else "-"
    cf = f"{100 * r['comm_fraction']:.1f}%" if r["comm_fraction"] is not None else "-"
    rss = f"{r['peak_rss_mb']:.0f}" if r["peak_rss_mb"] else "-"
    a = f"{r['val_accuracy']:.4f}" if r["val_accuracy"] is not None else "-"
    lines.append(f"| {r['label']} | {r['model']} | {r['ranks']} x {r['threads']} | {r['samples_per_s']:,.0f} | "
                 f"{r['mean_samples_per_s']:,.0f} | {', '.join(f'{x:,.0f}' for x in r.get('per_round', []))} | {gf} | "
                 f"{cf} | {a} | {rss} |")
lines += ["", "One busy competing process (`yes > /dev/null`), same commands:", "",
          "| run | samples/s without it | with it | with / without |", "|---|---:|---:|---:|"]
for quiet, loaded in (("dptrain-1x1", "loaded-1x1"), ("dptrain-2x1", "loaded-2x1"),
                      ("dptrain-2x1-exchange-mpi", "loaded-2x1-exchange-mpi"), ("dptrain-2x1", "loaded-2x1-bind-none"), ("dptrain-2x1", "loaded-2x1-spin-only"),
                      ("dptrain-2x1", "loaded-2x1-yield-at-once"), ("dptrain-2x1", "loaded-2x1-bind-none-yield-at-once"),
                      ("dptrain-1x2", "loaded-1x2"),
                      ("dptrain-1x2", "loaded-1x2-gomp-default-spin"), ("pytorch-2x1", "loaded-2x1-pytorch")):
    r, each = ratio(loaded, quiet)
    lines.append(f"| {loaded} | {sps(quiet):,.0f} | {sps(loaded):,.0f} | {r:.2f}"
                 f"{' (' + spread(each) + ')' if len(each) > 1 else ''} |")
lines += ["", "Commands:", ""] + [f"- {r['label']}: `{r['command']}`" for r in results]
text = "\n".join(lines)
print("\n" + text)

if not args.no_write:
    path = os.path.join(root, "BENCHMARKS.md")
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = f"<!-- bench:main -->\n{text}\n<!-- /bench:main -->"
    if "<!-- bench:main -->" in old:
        old = re.sub(r"<!-- bench:main -->.*?<!-- /bench:main -->", lambda m: block, old, flags=re.S)
    else:
        old = old.rstrip() + "\n\n## Training throughput (scripts/bench.sh)\n\n" + block + "\n"
    open(path, "w").write(old)
    print(f"wrote {path}")
