"""Checks for test_predict.sh: an independent numpy forward pass from a checkpoint's /params,
comparisons of prediction files, and metrics recomputed from predictions.

  predict_check.py forward MODEL.h5 DATA.h5 PRED.h5    predictions match numpy's forward pass
  predict_check.py same A.h5 B.h5                      two prediction files agree (1e-6)
  predict_check.py csv PRED.csv PRED.h5                the CSV output equals the HDF5 output
  predict_check.py metrics EVAL.json PRED.h5 DATA.h5   eval's metrics equal those recomputed
  predict_check.py rows DATA.h5 FIRST COUNT            CSV feature rows (shortest float32 form)
  predict_check.py lines OUT.txt PRED.h5 FIRST COUNT   stream answers equal the file's rows
"""
import json
import sys

import h5py
import numpy as np

TOL = 1e-6


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def forward(model_path, x):
    """The dense stack in float64: per layer a column-major [out x in] weight matrix, then the
    bias (ModelSpec in include/dptrain/model.hpp)."""
    with h5py.File(model_path, "r") as f:
        params = f["params"][...].astype(np.float64)
        widths = [int(w) for w in f.attrs["widths"]]
        activation = f.attrs["activation"].decode() if isinstance(f.attrs["activation"], bytes) else str(f.attrs["activation"])
        loss = f.attrs["loss"].decode() if isinstance(f.attrs["loss"], bytes) else str(f.attrs["loss"])
    a = x.astype(np.float64)
    offset = 0
    for layer in range(len(widths) - 1):
        n_in, n_out = widths[layer], widths[layer + 1]
        w = params[offset:offset + n_in * n_out].reshape(n_in, n_out).T  # column-major
        offset += n_in * n_out
        b = params[offset:offset + n_out]
        offset += n_out
        a = a @ w.T + b
        if layer + 2 < len(widths):
            a = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
                 "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation](a)
    assert offset == params.size, "parameter layout does not add up"
    if loss == "ce":
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return loss, e / e.sum(axis=1, keepdims=True)
    if loss == "bce":
        p = 1 / (1 + np.exp(-a[:, 0]))
        return loss, np.stack([1 - p, p], axis=1)
    return loss, a


def read_predictions(path):
    with h5py.File(path, "r") as f:
        pred = f["predictions"][...]
        prob = f["probabilities"][...] if "probabilities" in f else None
    return pred, prob


def cmd_forward(model, data, pred_path):
    with h5py.File(data, "r") as f:
        x = f["features"][...]
    loss, expected = forward(model, x)
    pred, prob = read_predictions(pred_path)
    if pred.shape[0] != x.shape[0]:
        fail(f"{pred_path} has {pred.shape[0]} rows, the data {x.shape[0]}")
    if loss == "mse":
        diff = np.max(np.abs(pred - expected)) / max(np.max(np.abs(expected)), 1e-30)
        if pred.shape != expected.shape or diff > 1e-5:
            fail(f"regression values differ from numpy by {diff:.3g} (relative)")
        print(f"regression values match numpy's forward pass (max rel diff {diff:.2g})")
        return
    diff = np.max(np.abs(prob - expected))
    if prob.shape != expected.shape or diff > 1e-5:
        fail(f"probabilities differ from numpy by {diff:.3g}")
    order = np.sort(expected, axis=1)
    margin = order[:, -1] - order[:, -2]
    wrong = (pred != np.argmax(expected, axis=1)) & (margin > 1e-5)
    if pred.dtype != np.int64 or wrong.any():
        fail(f"class ids differ from numpy's argmax in {int(wrong.sum())} rows (dtype {pred.dtype})")
    print(f"class ids and probabilities match numpy's forward pass in row order "
          f"({x.shape[0]} rows, max prob diff {diff:.2g})")


def cmd_same(a_path, b_path):
    a_pred, a_prob = read_predictions(a_path)
    b_pred, b_prob = read_predictions(b_path)
    if a_pred.shape != b_pred.shape or a_pred.dtype != b_pred.dtype:
        fail(f"/predictions shape/type {a_pred.shape} {a_pred.dtype} vs {b_pred.shape} {b_pred.dtype}")
    if a_pred.dtype == np.int64:
        if not np.array_equal(a_pred, b_pred):
            fail(f"class ids differ in {int((a_pred != b_pred).sum())} rows")
        diff = np.max(np.abs(a_prob - b_prob))
    else:
        diff = np.max(np.abs(a_pred - b_pred))
    if diff > TOL:
        fail(f"outputs differ by {diff:.3g} > {TOL}")
    print(f"identical class ids/values, max difference {diff:.2g}"
          + (" (bitwise equal)" if diff == 0 else ""))


def cmd_csv(csv_path, h5_path):
    pred, prob = read_predictions(h5_path)
    with open(csv_path) as f:
        header = f.readline().strip().split(",")
        rows = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    if prob is not None:
        expected_header = ["prediction"] + [f"p_{i}" for i in range(prob.shape[1])]
        ok = header == expected_header and np.array_equal(rows[:, 0].astype(np.int64), pred) \
            and np.array_equal(rows[:, 1:].astype(np.float32), prob)
    else:
        expected_header = [f"value_{i}" for i in range(pred.shape[1])]
        ok = header == expected_header and np.array_equal(rows.astype(np.float32), pred)
    if not ok:
        fail(f"{csv_path} (header {header}) differs from {h5_path}")
    print(f"CSV output equals the HDF5 output exactly ({rows.shape[0]} rows)")


def cmd_metrics(eval_json, pred_path, data):
    m = json.load(open(eval_json))
    with h5py.File(data, "r") as f:
        y = f["labels"][...]
    pred, prob = read_predictions(pred_path)

    def close(name, got, want, tol=1e-6):
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape or np.max(np.abs(got - want)) > tol * max(1.0, np.max(np.abs(want))):
            fail(f"eval {name} = {got} but recomputed from predictions {want}")

    if m["rows"] != y.shape[0]:
        fail(f"eval rows {m['rows']} != {y.shape[0]}")
    if prob is not None:
        c = prob.shape[1]
        y = y.astype(np.int64)
        confusion = np.zeros((c, c), dtype=np.int64)
        np.add.at(confusion, (y, pred), 1)
        if m["confusion"] != confusion.tolist():
            fail(f"eval confusion {m['confusion']} != recomputed {confusion.tolist()}")
        tp = np.diag(confusion).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.nan_to_num(tp / confusion.sum(axis=0))
            recall = np.nan_to_num(tp / confusion.sum(axis=1))
            f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        close("accuracy", m["accuracy"], np.mean(pred == y))
        close("precision", m["precision"], precision)
        close("recall", m["recall"], recall)
        close("f1", m["f1"], f1)
        close("support", m["support"], confusion.sum(axis=1))
        close("macro_f1", m["macro_f1"], f1.mean())
        p_true = prob[np.arange(y.size), y].astype(np.float64)
        close("loss", m["loss"], np.mean(-np.log(np.maximum(p_true, 1e-300))), 1e-5)
        print(f"eval metrics equal those recomputed from the predictions: accuracy "
              f"{m['accuracy']:.4f}, confusion matrix, precision/recall/F1, loss {m['loss']:.4f}")
    else:
        y = y.reshape(pred.shape).astype(np.float64)
        err = pred.astype(np.float64) - y
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        r2 = 1 - (err ** 2).sum(axis=0) / ss_tot
        close("mse", m["mse"], np.mean(err ** 2))
        close("mae", m["mae"], np.mean(np.abs(err)))
        close("target_r2", m["target_r2"], r2)
        close("r2", m["r2"], r2.mean())
        close("loss", m["loss"], np.mean(err ** 2))
        print(f"eval metrics equal those recomputed from the predictions: MSE {m['mse']:.5f}, "
              f"MAE {m['mae']:.5f}, R^2 {m['r2']:.5f}")


def cmd_rows(data, first, count):
    with h5py.File(data, "r") as f:
        x = f["features"][first:first + count].astype(np.float32)
    for row in x:
        print(",".join(str(v) for v in row))


def cmd_lines(out_path, pred_path, first, count):
    pred, prob = read_predictions(pred_path)
    lines = [l for l in open(out_path).read().split("\n") if l]
    if len(lines) != count:
        fail(f"{len(lines)} answer lines for {count} input lines")
    values = np.array([[float(v) for v in l.split(",")] for l in lines])
    if prob is not None:
        if not np.array_equal(values[:, 0].astype(np.int64), pred[first:first + count]):
            fail("streamed class ids differ from the file's")
        diff = np.max(np.abs(values[:, 1:] - prob[first:first + count]))
    else:
        diff = np.max(np.abs(values - pred[first:first + count]))
    if diff > TOL:
        fail(f"streamed outputs differ from the file's by {diff:.3g}")
    print(f"{count} streamed answers equal rows {first}..{first + count - 1} of the file "
          f"(max difference {diff:.2g})")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command in ("rows", "lines"):
        args = args[:-2] + [int(a) for a in args[-2:]]
    {"forward": cmd_forward, "same": cmd_same, "csv": cmd_csv, "metrics": cmd_metrics,
     "rows": cmd_rows, "lines": cmd_lines}[command](*args)
