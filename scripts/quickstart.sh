#!/usr/bin/env bash
# Fresh Debian machine -> a trained model: installs what is missing, builds, imports
# Fashion-MNIST from Debian's dataset-fashion-mnist package and trains softmax regression on
# 2 MPI ranks. Outputs go to runs/quickstart/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dptrain="${DPTRAIN_BUILD_DIR:-$root/build}/dptrain"
src=/usr/share/datasets/fashion-mnist
out=$root/runs/quickstart
mkdir -p "$out"
for part in train t10k; do
  [ -f "$out/$part.h5" ] || "$dptrain" convert --from idx --input "$src/$part-images-idx3-ubyte.gz" \
      --labels "$src/$part-labels-idx1-ubyte.gz" --out "$out/$part.h5"
done
mpirun -np 2 --oversubscribe --hostfile "$root/hostfiles/localhost" "$dptrain" train \
  --data "$out/train.h5" --val "$out/t10k.h5" --model softmax --epochs 20 --batch 256 --optimizer momentum --lr 0.05 --lr-schedule cosine \
  --threads 1 --checkpoint "$out/model.h5" --metrics "$out/metrics.jsonl" "$@"
echo "quickstart: model in $out/model.h5, metrics in $out/metrics.jsonl"
