#!/usr/bin/python3
"""The peers of scripts/bench_sparse.sh on the same CSR features (HDF5 files written by
dptrain convert --from text): LIBLINEAR L2-regularised logistic regression (liblinear-train -s 7, the dual solver, C=1)
and scikit-learn's SGDClassifier(loss="log_loss").partial_fit, one call per epoch over the
whole training matrix. Prints one line per peer: accuracy, seconds, peak RSS.
usage: bench_sparse_peers.py TRAIN.h5 TEST.h5 WORKDIR EPOCHS"""
import re
import resource
import subprocess
import sys
import time

import h5py
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import SGDClassifier


def load(path):
    with h5py.File(path, "r") as f:
        g = f["features"]
        shape = tuple(int(v) for v in g.attrs["shape"])
        x = sp.csr_matrix((g["data"][...], g["indices"][...], g["indptr"][...]), shape=shape)
        return x, f["labels"][...]


def write_svmlight(x, y, path):  # 1-based indices, as LIBLINEAR expects
    with open(path, "w") as out:
        for r in range(x.shape[0]):
            s, e = x.indptr[r], x.indptr[r + 1]
            out.write(str(int(y[r])) + "".join(f" {c + 1}:{v:.7g}" for c, v in zip(x.indices[s:e], x.data[s:e])) + "\n")


train_path, test_path, work, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
xtr, ytr = load(train_path)
xte, yte = load(test_path)
write_svmlight(xtr, ytr, f"{work}/train.svm")
write_svmlight(xte, yte, f"{work}/test.svm")

t0 = time.perf_counter()
subprocess.run(["liblinear-train", "-s", "7", "-c", "1", "-q", f"{work}/train.svm", f"{work}/liblinear.model"], check=True)
train_s = time.perf_counter() - t0
res = subprocess.run(["liblinear-predict", f"{work}/test.svm", f"{work}/liblinear.model", f"{work}/liblinear.pred"],
                     check=True, capture_output=True, text=True).stdout
acc = float(re.search(r"Accuracy = ([\d.]+)%", res).group(1)) / 100
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"liblinear -s 7 (L2-regularised logistic regression, dual solver, C=1): test accuracy {acc:.4f}, train {train_s:.2f} s, peak RSS {rss:.0f} MB")

for jobs in (1, 2):
    clf = SGDClassifier(loss="log_loss", alpha=1e-6, n_jobs=jobs, random_state=0)
    classes = np.unique(ytr)
    times = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        clf.partial_fit(xtr, ytr, classes=classes)
        times.append(time.perf_counter() - t0)
    acc = float((clf.predict(xte) == yte).mean())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sklearn {sklearn.__version__} SGDClassifier(log_loss, alpha=1e-6) partial_fit n_jobs={jobs}: "
          f"test accuracy {acc:.4f} after {epochs} epochs, epoch {np.mean(times):.3f} s "
          f"(min {min(times):.3f}), peak RSS {rss:.0f} MB")
