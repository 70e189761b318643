"""Small sparse classification data for the sparse tests, written the way h5py/anndata users
write it: a CSR group (data float64, indices int32, indptr int64, string attributes), and the
same rows as a dense /features dataset for comparison.
usage: sparse_data.py OUT_CSR.h5 OUT_DENSE.h5 ROWS COLS CLASSES SEED"""
import sys
import h5py
import numpy as np

out_csr, out_dense = sys.argv[1], sys.argv[2]
rows, cols, classes, seed = (int(v) for v in sys.argv[3:7])
rng = np.random.default_rng(seed)
centers = rng.integers(0, cols, size=(classes, 6))  # planted words per class
indptr, indices, data, labels = [0], [], [], []
for r in range(rows):
    y = int(rng.integers(0, classes))
    words = set(rng.integers(0, cols, size=int(rng.integers(2, 8))).tolist())
    words |= set(rng.choice(centers[y], size=3, replace=False).tolist())
    words = sorted(words)
    values = rng.uniform(0.2, 1.0, size=len(words))
    values /= np.linalg.norm(values)
    indices += words
    data += values.tolist()
    indptr.append(len(indices))
    labels.append(y)
with h5py.File(out_csr, "w") as f:
    g = f.create_group("X")
    g.attrs["encoding-type"] = "csr_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = np.array([rows, cols], dtype=np.int64)
    g.create_dataset("data", data=np.array(data, dtype=np.float64))
    g.create_dataset("indices", data=np.array(indices, dtype=np.int32))
    g.create_dataset("indptr", data=np.array(indptr, dtype=np.int64))
    f.create_dataset("y", data=np.array(labels, dtype=np.int64))
dense = np.zeros((rows, cols), dtype=np.float32)
for r in range(rows):
    dense[r, indices[indptr[r]:indptr[r + 1]]] = data[indptr[r]:indptr[r + 1]]
with h5py.File(out_dense, "w") as f:
    f.create_dataset("features", data=dense)
    f.create_dataset("labels", data=np.array(labels, dtype=np.int64))
