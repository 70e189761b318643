# A rank holds only its shard: on a 48 MB dataset (300000 x 40 float32) the peak memory of
# the largest rank falls as ranks are added, by about the shard size, and stays within the
# shard plus a fixed overhead (measured on a 1000-row file of the same width).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
"$DPTRAIN" gen --out "$WORK/m.h5" --rows 300000 --features 40 --classes 4 --seed 1
"$DPTRAIN" gen --out "$WORK/small.h5" --rows 1000 --features 40 --classes 4 --seed 1
args=(train --model softmax --epochs 1 --batch 4096 --progress off)
data_mb=$(( 300000 * 40 * 4 / 1048576 ))  # MiB, like the RSS figures
base=$(rank_peak_rss_mb 1 "${args[@]}" --data "$WORK/small.h5")
declare -A peak
for np in 1 2 4; do
  per_rank=$(rank_peak_rss_mb "$np" "${args[@]}" --data "$WORK/m.h5" | tr '\n' ' ')
  peak[$np]=$(echo "$per_rank" | tr ' ' '\n' | sort -n | tail -1)
  echo "p=$np: peak RSS per rank (MiB): $per_rank(fixed overhead $base MiB, data $data_mb MiB)"
  allowed=$(( base + data_mb * 5 / 4 / np + 4 ))
  [ "${peak[$np]}" -le "$allowed" ] || fail "p=$np: a rank peaked at ${peak[$np]} MiB; its shard needs at most $allowed MiB"
done
[ $(( peak[1] - peak[2] )) -ge $(( data_mb * 35 / 100 )) ] || fail "p=2 saves only $(( peak[1] - peak[2] )) MiB per rank"
[ $(( peak[2] - peak[4] )) -ge $(( data_mb * 15 / 100 )) ] || fail "p=4 saves only $(( peak[2] - peak[4] )) MiB per rank"
pass "largest rank's peak: ${peak[1]} MiB (p=1) > ${peak[2]} MiB (p=2) > ${peak[4]} MiB (p=4); each within its shard + $base MiB"
