#!/usr/bin/env bash
# dptrain predict writes its output through an ordered gather to rank 0 (serial HDF5). This
# measures the alternative, every rank writing its own rows with parallel HDF5 collective
# writes (scripts/parallel_write.c, built here against Debian's libhdf5-openmpi-dev), for the
# same output (Fashion-MNIST train: 60000 rows, 10 classes), best of N runs, on 1, 2, 4 ranks.
# Usage: scripts/bench_parallel_write.sh [N]   (after scripts/build.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
"$root/scripts/install-deps.sh" libhdf5-openmpi-dev
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HDF5_USE_FILE_LOCKING=FALSE
dptrain="${DPTRAIN_BUILD_DIR:-$root/build}/dptrain"
work=$root/runs/bench-write
mkdir -p "$work"
mpicc -O2 -o "$work/parallel_write" "$root/scripts/parallel_write.c" $(pkg-config --cflags --libs hdf5-openmpi)
src=/usr/share/datasets/fashion-mnist
[ -f "$work/train.h5" ] || "$dptrain" convert --from idx --input "$src/train-images-idx3-ubyte.gz" \
  --labels "$src/train-labels-idx1-ubyte.gz" --out "$work/train.h5" >/dev/null
[ -f "$work/model.h5" ] || mpirun -np 2 "$dptrain" train --data "$work/train.h5" --model softmax --epochs 1 \
  --progress off --checkpoint "$work/model.h5" >/dev/null
echo "Measured $(date -u +%F) with \`scripts/bench_parallel_write.sh $runs\` on $(nproc) cores; output 60000 rows: /predictions int64 + /probabilities float32 [60000, 10] (2.9 MB), best of $runs."
echo
echo "| ranks | ordered gather + serial write (dptrain predict) s | parallel HDF5 collective write s |"
echo "|---:|---:|---:|"
for p in 1 2 4; do
  gather=999 collective=999
  for ((i = 0; i < runs; i++)); do
    line=$(mpirun -np "$p" --bind-to none "$dptrain" predict --model "$work/model.h5" --data "$work/train.h5" \
           --out "$work/pred.h5" 2>&1 | grep -E 'gather\+write' || true)
    g=$(sed -E 's/.*gather\+write ([0-9.]+) s.*/\1/' <<<"$line")
    c=$(mpirun -np "$p" --bind-to none "$work/parallel_write" "$work/par.h5" 60000 10 | sed -E 's/.*"write_s": ([0-9.]+).*/\1/')
    gather=$(python3 -c "print(min($gather, $g))")
    collective=$(python3 -c "print(min($collective, $c))")
  done
  echo "| $p | $gather | $collective |"
done
