#!/usr/bin/env python3
"""The PyTorch peer for scripts/bench.sh: the same job as `dptrain train` with PyTorch
DistributedDataParallel (gloo). Each rank reads its own contiguous shard of the same HDF5 file
(h5py hyperslab), shuffles the global order each epoch with the same seed on every rank, takes
its part of each global batch, and DDP averages gradients. Prints one JSON line per epoch.

Run: mpirun -np 2 /usr/bin/python3 scripts/pytorch_ddp.py --data train.h5 --val test.h5 \
         --hidden 256,128 --epochs 2 --batch 256 --lr 0.05 --momentum 0.9 --threads 1
(ranks are taken from Open MPI's environment variables, or torchrun's)."""
import argparse, json, os, time

import h5py
import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn


def env_int(*names, default=0):
    for n in names:
        if n in os.environ:
            return int(os.environ[n])
    return default


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--val")
    ap.add_argument("--hidden", default="256,128", help="hidden sizes; empty for softmax regression")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256, help="global batch")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--port", type=int, default=29533)
    args = ap.parse_args()

    rank = env_int("OMPI_COMM_WORLD_RANK", "RANK")
    world = env_int("OMPI_COMM_WORLD_SIZE", "WORLD_SIZE", default=1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(args.port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    t_io = time.perf_counter()
    with h5py.File(args.data, "r") as f:
        n = f["features"].shape[0]
        lo, hi = rank * n // world, (rank + 1) * n // world
        x = torch.from_numpy(f["features"][lo:hi].astype(np.float32))
        y = torch.from_numpy(f["labels"][lo:hi].astype(np.int64))
    val = None
    if args.val:
        with h5py.File(args.val, "r") as f:
            m = f["features"].shape[0]
            a, b = rank * m // world, (rank + 1) * m // world
            val = (torch.from_numpy(f["features"][a:b].astype(np.float32)),
                   torch.from_numpy(f["labels"][a:b].astype(np.int64)))
    io_s = time.perf_counter() - t_io
    classes = int(torch.tensor(y.max().item() + 1))
    t = torch.tensor([classes])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    classes = int(t.item())

    widths = [x.shape[1]] + [int(h) for h in args.hidden.split(",") if h] + [classes]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    model = nn.parallel.DistributedDataParallel(nn.Sequential(*layers))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    steps = (n + args.batch - 1) // args.batch
    for epoch in range(1, args.epochs + 1):
        g = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        loss_sum = torch.zeros(3)
        for s in range(steps):
            batch = order[s * args.batch:(s + 1) * args.batch]
            mine = batch[(batch >= lo) & (batch < hi)] - lo
            count = torch.tensor([float(len(batch))])
            out = model(x[mine])
            loss = loss_fn(out, y[mine])
            opt.zero_grad()
            # DDP averages gradients over ranks; scale so the update is the global-batch mean.
            (loss * world / len(batch)).backward()
            opt.step()
            loss_sum += torch.tensor([loss.item(), (out.argmax(1) == y[mine]).sum().item(), len(mine)])
        dist.all_reduce(loss_sum)
        epoch_s = time.perf_counter() - t0
        row = {"epoch": epoch, "train_loss": loss_sum[0].item() / loss_sum[2].item(),
               "train_accuracy": loss_sum[1].item() / loss_sum[2].item(),
               "samples_per_s": n / epoch_s, "epoch_s": epoch_s, "io_s": io_s,
               "ranks": world, "threads": args.threads}
        if val is not None:
            with torch.no_grad():
                out = model.module(val[0])
                v = torch.tensor([loss_fn(out, val[1]).item(), (out.argmax(1) == val[1]).sum().item(), len(val[1])])
            dist.all_reduce(v)
            row["val_loss"] = v[0].item() / v[2].item()
            row["val_accuracy"] = v[1].item() / v[2].item()
        if rank == 0:
            print(json.dumps(row), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
