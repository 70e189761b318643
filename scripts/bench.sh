#!/usr/bin/env bash
# Performance benchmark, one run (about 3-4 minutes on 2 cores): dptrain against the Eigen GEMM
# roof and against PyTorch DDP (gloo) on OpenBLAS, on the same data and machine; scaling,
# --deterministic, a 4096-wide MLP under three malloc settings, and a loaded machine. Writes the
# report into BENCHMARKS.md (between the bench:main markers); scripts/bench.py says what each
# figure is. Usage: scripts/bench.sh [--epochs N] [--no-write]
# python3-torch uses the system libblas.so.3: libopenblas0-pthread (in install-deps.sh) makes
# that OpenBLAS instead of the reference BLAS; the report prints which one torch ran on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec /usr/bin/python3 "$root/scripts/bench.py" --root "$root" "$@"
