"""Checks `dptrain export` against `dptrain predict`, using only what a user has:
onnx (checker, protobuf), numpy, h5py, optionally torch.

usage: export_check.py CHECKPOINT PREFIX DATA PREDICTIONS [CHECKPOINT PREFIX DATA PREDICTIONS ...]
  PREFIX.onnx, PREFIX.npz, PREFIX.safetensors are the exports of CHECKPOINT; PREDICTIONS is
  predict's HDF5 output for DATA. Every route must give predict's outputs to 1e-5.
"""
import json
import struct
import sys

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

TOL = 1e-5


def run_onnx(model, x):
    """Evaluates the graph's nodes in order with NumPy (no ONNX runtime in Debian 12)."""
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    values[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = [values[name] for name in node.input]
        attrs = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        op = node.op_type
        if op == "Gemm":
            w = a[1].T if attrs.get("transB", 0) else a[1]
            out = a[0] @ w + a[2]
        elif op == "Relu":
            out = np.maximum(a[0], 0)
        elif op == "Tanh":
            out = np.tanh(a[0])
        elif op == "Sigmoid":
            out = 1 / (1 + np.exp(-a[0]))
        elif op == "Softmax":
            e = np.exp(a[0] - a[0].max(axis=attrs.get("axis", -1), keepdims=True))
            out = e / e.sum(axis=attrs.get("axis", -1), keepdims=True)
        elif op == "Sub":
            out = a[0] - a[1]
        elif op == "Concat":
            out = np.concatenate(a, axis=attrs["axis"])
        elif op == "Identity":
            out = a[0]
        else:
            sys.exit(f"unexpected ONNX op {op}")
        values[node.output[0]] = out
    return values[model.graph.output[0].name]


def forward(state, spec, x):
    """The nn.Sequential of the state_dict: Linear layers 0, 2, 4, ... with the activation between."""
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    layers = len(state) // 2
    h = x
    for l in range(layers):
        h = h @ state[f"{2 * l}.weight"].astype(np.float64).T + state[f"{2 * l}.bias"]
        if l + 1 < layers:
            h = act[spec["activation"]](h)
    if spec["loss"] == "ce":
        e = np.exp(h - h.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if spec["loss"] == "bce":
        p = 1 / (1 + np.exp(-h))
        return np.concatenate([1 - p, p], axis=1)
    return h


def load_safetensors(path):
    """The format by hand: 8-byte header length, JSON header, raw little-endian data."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    body = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(body[b:e], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def close(name, got, want):
    err = np.max(np.abs(got - want))
    if got.shape != want.shape or not err <= TOL:
        sys.exit(f"FAIL {name}: shape {got.shape} vs {want.shape}, max |diff| {err:.3g} > {TOL}")
    print(f"  {name}: max |diff| {err:.2g}")


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check(checkpoint, prefix, data, predictions):
    x = h5py.File(data, "r")["features"][...].astype(np.float64)
    with h5py.File(predictions, "r") as f:
        want = f["probabilities"][...] if "probabilities" in f else f["predictions"][...]
    ckpt = h5py.File(checkpoint, "r")

    spec = {k: text(ckpt.attrs[k]) for k in ("model", "activation", "loss")}

    model = onnx.load(prefix + ".onnx")
    onnx.checker.check_model(model, full_check=True)
    assert model.graph.input[0].name == "input"
    expected_output = "predictions" if spec["loss"] == "mse" else "probabilities"
    assert model.graph.output[0].name == expected_output, model.graph.output[0].name
    close("onnx graph", run_onnx(model, x), want)

    npz = dict(np.load(prefix + ".npz"))
    close("npz state_dict", forward(npz, spec, x), want)
    safe, meta = load_safetensors(prefix + ".safetensors")
    assert sorted(safe) == sorted(npz) and meta["model"] == spec["model"], (sorted(safe), meta)
    close("safetensors state_dict", forward(safe, spec, x), want)
    stored = {k: ckpt["state_dict"][k][...] for k in ckpt["state_dict"]}
    assert sorted(stored) == sorted(npz)
    for k in stored:
        assert np.array_equal(stored[k], npz[k]), k
    print("  checkpoint /state_dict equals the npz tensors")

    try:
        import torch
    except ImportError:
        sys.exit("python3-torch is missing (scripts/install-deps.sh installs it): "
                 "nn.Sequential.load_state_dict cannot be checked")
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[spec["activation"]]
    mods = []
    for l in range(len(npz) // 2):
        if l:
            mods.append(act())
        w = npz[f"{2 * l}.weight"]
        mods.append(torch.nn.Linear(w.shape[1], w.shape[0]))
    net = torch.nn.Sequential(*mods).double()
    net.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in safe.items()})
    with torch.no_grad():
        logits = net(torch.from_numpy(x))
    if spec["loss"] == "ce":
        out = torch.softmax(logits, dim=1)
    elif spec["loss"] == "bce":
        out = torch.cat([1 - torch.sigmoid(logits), torch.sigmoid(logits)], dim=1)
    else:
        out = logits
    close("torch nn.Sequential", out.numpy(), want)


for i in range(1, len(sys.argv), 4):
    print(sys.argv[i])
    check(*sys.argv[i:i + 4])
