#!/usr/bin/env bash
# Performance benchmark: dptrain against the Eigen GEMM roofline and against PyTorch DDP (gloo)
# and scikit-learn on the same data and machine, in one run. Writes the table into
# BENCHMARKS.md (between the bench:main markers) and a chart to docs/img/bench.png.
# Usage: scripts/bench.sh [--epochs N]   (after scripts/test.sh, or on a fresh machine)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" python3-torch python3-sklearn python3-matplotlib
"$root/scripts/build.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec /usr/bin/python3 "$root/scripts/bench.py" --root "$root" "$@"
