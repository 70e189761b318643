#!/usr/bin/env bash
# Data bigger than memory (issue 13): streaming from HDF5 against training in memory.
#   1. A file ~10x --memory-budget (400,000 x 784 float32, 1.2 GiB; budget 128 MiB per rank):
#      mlp:256,128 on 2 ranks, in memory and streamed, side by side in this run (page cache
#      warm), with every rank's peak RSS; then streamed again with the file evicted from the
#      page cache (posix_fadvise DONTNEED on that file only: nothing else is dropped).
#   2. Fashion-MNIST rewritten sorted by label, streamed with a 16 MiB budget (the file is
#      188 MiB), against the original file in memory: test accuracy of mlp:256,128.
#   3. I/O scaling: softmax (little compute) streaming the 1.2 GiB file on 1, 2, 4 ranks, warm
#      and cold: MB/s per rank and in total (end to end: compute included).
# Usage: scripts/bench_stream.sh [WORKDIR]   (default: a temporary folder, removed after)
# Needs ~1.5 GiB of disk, ~2 GiB of memory, python3-h5py. Environment: DPTRAIN, ROWS, FM_EPOCHS,
# SECTIONS (default "1 2 3": which parts to run), ROUNDS (default 1: in-memory/streamed pairs of
# part 1, run alternately, each pair's ratio printed, with the median).
set -euo pipefail
source "$(dirname "$0")/bench_lib.sh"
bench_workdir stream "${1:-}"
rows=${ROWS:-400000}
fm_epochs=${FM_EPOCHS:-10}
sections=" ${SECTIONS:-1 2 3} "
rounds=${ROUNDS:-1}
fm=/usr/share/datasets/fashion-mnist
py=/usr/bin/python3

evict() { sync "$1"; $py -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)" "$1"; }
warm() { cat "$1" >/dev/null; }
# metric FILE KEY EPOCH
metric() { $py -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(r[int(sys.argv[3])-1][sys.argv[2]])" "$@"; }
mean_after_first() { $py -c "import json,sys; r=[json.loads(l)[sys.argv[2]] for l in open(sys.argv[1]) if l.strip()][1:]; print(round(sum(r)/len(r), 1))" "$@"; }
# run NAME NP ARGS... : per-rank peak RSS (MiB) in $work/NAME.rss, metrics in $work/NAME.jsonl
run() {
  local name=$1 np=$2; shift 2
  peak_rss_mib "$work/$name.rss" "$np" "$work/$name.log" "$@" --metrics "$work/$name.jsonl" --progress off \
    >"$work/$name.rss"
}

[ -f "$work/big.h5" ] || "$dptrain" gen --out "$work/big.h5" --rows "$rows" --features 784 --classes 10 \
  --chunk-rows 64 --seed 1 >/dev/null
big_mib=$(( $(stat -c %s "$work/big.h5") / 1048576 ))
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores;" \
  "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
if [[ $sections == *" 1 "* ]]; then
echo "### 1. mlp:256,128 on a file ~10x the budget (page cache warm)"
echo
echo "File: $rows x 784 float32, 64-row chunks, $big_mib MiB; --memory-budget 128 (MiB per rank); batch 256;"
echo "samples/s is the mean of the epochs after the first; peak RSS is each rank's (getrusage of the rank)."
echo "1 rank x 1 thread leaves a core to the prefetch thread; 2 ranks x 1 thread use both cores for compute."
echo
echo "| layout | run | samples/s | io_s (waiting for data, all epochs) | peak RSS per rank (MiB) |"
echo "|---|---|---|---|---|"
ratios=""
for np in 1 2; do
  train=(train --data "$work/big.h5" --model mlp:256,128 --optimizer momentum --lr 0.05 --batch 256
         --epochs $((np + 1)) --threads 1 --seed 1)
  warm "$work/big.h5"
  pair_ratios=()
  for ((round = 1; round <= rounds; round++)); do
    tag=$( [ "$rounds" -gt 1 ] && echo ", round $round" || true)
    run mem-$np "$np" "${train[@]}" --stream off
    run stream-$np "$np" "${train[@]}" --memory-budget 128
    for name in mem-$np stream-$np; do
      io=$($py -c "import json,sys; print(round(sum(json.loads(l)['io_s'] for l in open(sys.argv[1]) if l.strip()), 2))" "$work/$name.jsonl")
      label=$( [ "${name%-*}" = mem ] && echo 'in memory (--stream off)' || echo 'streamed (--memory-budget 128)')
      echo "| $np x 1 | $label$tag | $(mean_after_first "$work/$name.jsonl" samples_per_s) | $io | $(cat "$work/$name.rss") |"
    done
    pair_ratios+=("$($py -c "print(round($(mean_after_first "$work/stream-$np.jsonl" samples_per_s) / $(mean_after_first "$work/mem-$np.jsonl" samples_per_s), 3))")")
  done
  median=$($py -c "import statistics,sys; print(round(statistics.median(float(v) for v in sys.argv[1:]), 3))" "${pair_ratios[@]}")
  ratios+="$np x 1: **${median}x**$( [ "$rounds" -gt 1 ] && echo " (median of ${pair_ratios[*]})" || true); "
done
evict "$work/big.h5"
run cold 2 train --data "$work/big.h5" --model mlp:256,128 --optimizer momentum --lr 0.05 --batch 256 --epochs 1 \
  --threads 1 --seed 1 --memory-budget 128
echo "| 2 x 1 | streamed, cold page cache (1 epoch) | $(metric "$work/cold.jsonl" samples_per_s 1) | $(metric "$work/cold.jsonl" io_s 1) | $(cat "$work/cold.rss") |"
echo
echo "Streamed / in memory samples/s, side by side in this run: $ratios"
echo
fi

if [[ $sections == *" 2 "* ]]; then
echo "### 2. Fashion-MNIST sorted by label, streamed with a 16 MiB budget"
echo
"$dptrain" convert --from idx --input "$fm/train-images-idx3-ubyte.gz" --labels "$fm/train-labels-idx1-ubyte.gz" \
  --out "$work/fm-train.h5" >/dev/null
"$dptrain" convert --from idx --input "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz" \
  --out "$work/fm-t10k.h5" >/dev/null
$py - "$work/fm-train.h5" "$work/fm-sorted.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    x, y, chunks = f["features"][...], f["labels"][...], f["features"].chunks
order = np.argsort(y, kind="stable")
with h5py.File(sys.argv[2], "w") as g:
    g.create_dataset("features", data=x[order], chunks=chunks)
    g.create_dataset("labels", data=y[order])
PY
fm_mib=$(( $(stat -c %s "$work/fm-sorted.h5") / 1048576 ))
fmargs=(train --val "$work/fm-t10k.h5" --model mlp:256,128 --optimizer momentum --lr 0.05 --lr-schedule cosine
        --weight-decay 1e-4 --batch 128 --epochs "$fm_epochs" --seed 42 --threads 1)
run fm-mem 2 "${fmargs[@]}" --data "$work/fm-train.h5" --stream off
run fm-stream 2 "${fmargs[@]}" --data "$work/fm-sorted.h5" --memory-budget 16
run fm-sorted-stratified 2 "${fmargs[@]}" --data "$work/fm-sorted.h5" --stream off
echo "Sorted file: $fm_mib MiB (60,000 rows, classes in runs of 6,000, $( $py -c "import h5py; c = h5py.File('$work/fm-sorted.h5')['features'].chunks; print(f'{c[0]}-row chunks' if c else 'contiguous, as dptrain convert --from idx writes it: blocks of 83 rows')"))."
echo "mlp:256,128, momentum 0.9, lr 0.05 cosine, weight decay 1e-4, batch 128, $fm_epochs epochs, 2 ranks."
echo
echo "| run | test accuracy (last epoch) | peak RSS per rank (MiB) |"
echo "|---|---|---|"
echo "| original file, in memory (stratified order) | $(metric "$work/fm-mem.jsonl" val_accuracy "$fm_epochs") | $(cat "$work/fm-mem.rss") |"
echo "| sorted file, streamed, --memory-budget 16 (block order, window 64 blocks) | $(metric "$work/fm-stream.jsonl" val_accuracy "$fm_epochs") | $(cat "$work/fm-stream.rss") |"
echo "| sorted file, in memory (stratified order) | $(metric "$work/fm-sorted-stratified.jsonl" val_accuracy "$fm_epochs") | $(cat "$work/fm-sorted-stratified.rss") |"
echo

fi

if [[ $sections == *" 3 "* ]]; then
echo "### 3. I/O scaling: softmax streaming the $big_mib MiB file (--memory-budget 64, batch 4096, 1 epoch)"
echo
echo "| ranks | warm: epoch (s) | warm: MB/s per rank | warm: MB/s total | cold: epoch (s) | cold: MB/s per rank | cold: MB/s total |"
echo "|---|---|---|---|---|---|---|"
bytes=$(( rows * 785 * 4 ))
for np in 1 2 4; do
  io=(train --data "$work/big.h5" --model softmax --batch 4096 --epochs 1 --threads 1 --memory-budget 64)
  warm "$work/big.h5"
  run io-warm-$np "$np" "${io[@]}"
  evict "$work/big.h5"
  run io-cold-$np "$np" "${io[@]}"
  $py - "$np" "$bytes" "$(metric "$work/io-warm-$np.jsonl" epoch_s 1)" "$(metric "$work/io-cold-$np.jsonl" epoch_s 1)" <<'PY'
import sys
np_, b, w, c = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
mb = b / 1e6
print(f"| {np_} | {w:.2f} | {mb / w / np_:.0f} | {mb / w:.0f} | {c:.2f} | {mb / c / np_:.0f} | {mb / c:.0f} |")
PY
done
fi
