#!/usr/bin/env bash
# Which GEMM library multiplies the model's shapes fastest on this machine: oneDNN (what dptrain
# uses), BLIS (as shipped, and forced to its AVX-512 kernels with BLIS_ARCH_TYPE=skx), Eigen,
# and OpenBLAS through NumPy; one thread pinned to one core. Prints a Markdown table per run.
# Usage: scripts/bench_gemm_libraries.sh [CPU]   (default: the last CPU)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" libblis-serial-dev
cpu=${1:-$(( $(nproc) - 1 ))}
# dptrain's own malloc settings (src/cli/runtime_defaults.cpp): with glibc's defaults Eigen's
# packing blocks are unmapped after every product and faulted back in.
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
blis=/usr/lib/x86_64-linux-gnu/blis-serial
g++ -O3 -march=native -DEIGEN_DONT_PARALLELIZE -I/usr/include/eigen3 -I/usr/include/x86_64-linux-gnu/blis-serial \
  "$root/scripts/gemm_libraries.cpp" -o "$out/gemm_libraries" -ldnnl -L"$blis" -lblis -Wl,-rpath,"$blis"
echo "CPU $cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo; echo "BLIS as shipped:"; OMP_NUM_THREADS=1 taskset -c "$cpu" "$out/gemm_libraries"
echo; echo "BLIS forced to its skx (AVX-512) kernels:"
BLIS_ARCH_TYPE=skx OMP_NUM_THREADS=1 taskset -c "$cpu" "$out/gemm_libraries"
echo; echo "OpenBLAS through NumPy ($(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)), same shapes, GFLOP/s:"
OPENBLAS_NUM_THREADS=1 taskset -c "$cpu" /usr/bin/python3 - <<'PY'
import time
import numpy as np
for name, m, n, k, ta, tb in [("forward", 256, 128, 784, 0, 0), ("weight gradient", 256, 784, 128, 0, 1),
                              ("forward", 128, 128, 256, 0, 0), ("input gradient", 256, 128, 128, 1, 0),
                              ("softmax forward", 10, 128, 784, 0, 0)]:
    a = np.random.rand(k, m).astype(np.float32) if ta else np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(n, k).astype(np.float32) if tb else np.random.rand(k, n).astype(np.float32)
    A, B = (a.T if ta else a), (b.T if tb else b)
    c = np.empty((m, n), np.float32)
    times = []
    for _ in range(400):
        t0 = time.perf_counter(); np.matmul(A, B, out=c); times.append(time.perf_counter() - t0)
    times.sort()
    print(f"{name} {m}x{n}x{k}: {2 * m * n * k / times[len(times) // 2] / 1e9:.0f}")
PY
