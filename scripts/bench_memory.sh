#!/usr/bin/env bash
# Peak resident memory per rank when training on a dataset of at least 2 GB with p = 1, 2, 4
# ranks: a rank should hold only its shard (plus buffers and the model), so the per-rank peak
# falls like 1/p while the sum over ranks stays near the data size.
#
# Usage: scripts/bench_memory.sh [WORKDIR]
#   Writes 4 files of 1,350,000 x 100 float32 features (2.16 GB in all; dptrain gen, one file at
#   a time, ~1.6 GB of memory each) to WORKDIR (default: a temporary folder, removed after),
#   trains softmax for one epoch on all of them with each p, and prints a Markdown table.
#   Needs ~2.3 GB of disk and ~3 GB of memory. Environment: DPTRAIN (the binary), ROWS_PER_FILE.
set -euo pipefail
source "$(dirname "$0")/bench_lib.sh"
bench_workdir memory "${1:-}"
rows=${ROWS_PER_FILE:-1350000}
features=100
for i in 0 1 2 3; do
  [ -f "$work/bench-$i.h5" ] || "$dptrain" gen --out "$work/bench-$i.h5" --rows "$rows" \
    --features "$features" --classes 10 --seed $((i + 1)) >/dev/null
done
"$dptrain" gen --out "$work/small.h5" --rows 1000 --features "$features" --classes 10 --seed 1 >/dev/null
data_bytes=$((4 * rows * features * 4))
data_mb=$((data_bytes / 1048576))
files_mb=$(( $(du -cb "$work"/bench-*.h5 | tail -1 | cut -f1) / 1048576 ))

# peak RSS (MiB) of each rank, rank order, one line
peaks() {
  local np=$1; shift
  peak_rss_mib "$work/rss" "$np" "$work/train-$np.log" "$@"
}
args=(train --model softmax --epochs 1 --batch 8192 --lr 0.1 --progress off)
base=$(peaks 1 "${args[@]}" --data "$work/small.h5")
echo "dataset: 4 files, $((4 * rows)) rows x $features float32 features = $data_mb MiB of features ($files_mb MiB on disk)"
echo "fixed overhead (1 rank, 1000-row file): $(echo $base) MiB"
echo
echo "| ranks p | shard per rank (MiB) | peak RSS per rank (MiB) | largest rank (MiB) | sum over ranks (MiB) | wall (s) |"
echo "|---|---|---|---|---|---|"
for np in 1 2 4; do
  start=$(date +%s.%N)
  per_rank=$(peaks "$np" "${args[@]}" --data "$work/bench-*.h5")
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  largest=$(echo $per_rank | awk '{ m = 0; for (i = 1; i <= NF; i++) if ($i > m) m = $i; print m }')
  sum=$(echo $per_rank | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')
  printf '| %d | %d | %s | %d | %d | %.1f |\n' "$np" $((data_mb / np)) "$(echo $per_rank | tr ' ' ',' | sed 's/,/, /g')" \
    "$largest" "$sum" "$wall"
done
