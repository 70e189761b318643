#!/usr/bin/env bash
# Prediction throughput of `dptrain predict` for 1, 2, 4 ranks x 1, 2 threads, on the
# Fashion-MNIST training images (60000 x 784, from Debian's dataset-fashion-mnist; a generated
# 60000 x 784 dataset when the package is missing), for a softmax model (cheap: the ordered
# gather and the write dominate) and an mlp:256,128 (the forward pass dominates), each
# trained for one epoch first. Prints a Markdown table.
#
#   scripts/bench_predict.sh [REPEATS]     (default 1; the best of REPEATS runs is reported)
#
# Environment: DPTRAIN (default build/dptrain), BENCH_DIR (default runs/bench-predict; data and
# models are kept there and reused), RANKS ("1 2 4"), THREADS ("1 2"), MODELS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dptrain=${DPTRAIN:-$root/build/dptrain}
dir=${BENCH_DIR:-$root/runs/bench-predict}
repeats=${1:-1}
ranks=${RANKS:-1 2 4}
threads=${THREADS:-1 2}
models=${MODELS:-softmax mlp:256,128}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HDF5_USE_FILE_LOCKING=FALSE
mkdir -p "$dir"

src=/usr/share/datasets/fashion-mnist
data=$dir/fashion-train.h5
if [ ! -f "$data" ]; then
  if [ -f "$src/train-images-idx3-ubyte.gz" ]; then
    "$dptrain" convert --from idx --input "$src/train-images-idx3-ubyte.gz" \
      --labels "$src/train-labels-idx1-ubyte.gz" --out "$data" >&2
  else
    data=$dir/generated.h5
    [ -f "$data" ] || "$dptrain" gen --out "$data" --rows 60000 --features 784 --classes 10 --seed 1 >&2
  fi
fi

echo "| model | ranks | threads | predictions/s | seconds (in dptrain) | read s | score s | gather+write s | mpirun wall s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for model in $models; do
  file=$dir/model-${model//[:,]/_}.h5
  if [ ! -f "$file" ]; then
    mpirun -np 2 --bind-to none "$dptrain" train --data "$data" --model "$model" --epochs 1 \
      --batch 256 --lr 0.05 --threads 1 --progress off --checkpoint "$file" >&2
  fi
  for p in $ranks; do
    for t in $threads; do
      best=""
      for _ in $(seq "$repeats"); do
        start=$(date +%s%N)
        line=$(mpirun -np "$p" --bind-to none "$dptrain" predict --model "$file" --data "$data" \
                 --out "$dir/predictions.h5" --threads "$t")
        wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
        # "... in S s: R predictions/s on ... (read A s, score B s, gather+write C s)"
        rate=$(sed -E 's/.*: ([0-9]+) predictions\/s.*/\1/' <<<"$line")
        secs=$(sed -E 's/.* in ([0-9.]+) s:.*/\1/' <<<"$line")
        read_s=$(sed -E 's/.*\(read ([0-9.]+) s.*/\1/' <<<"$line")
        score=$(sed -E 's/.*, score ([0-9.]+) s.*/\1/' <<<"$line")
        write=$(sed -E 's/.*gather\+write ([0-9.]+) s.*/\1/' <<<"$line")
        if [ -z "$best" ] || [ "$rate" -gt "${best%% *}" ]; then
          best="$rate $secs $read_s $score $write $((wall_ms / 1000)).$(printf '%03d' $((wall_ms % 1000)))"
        fi
      done
      read -r rate secs read_s score write wall <<<"$best"
      echo "| $model | $p | $t | $rate | $secs | $read_s | $score | $write | $wall |"
    done
  done
done
rm -f "$dir/predictions.h5"
