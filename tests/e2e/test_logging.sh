# Logs that work in files: with mpirun's output in a file no progress line (\r, ANSI codes)
# reaches it, although the ranks may sit on pseudo-terminals; on a real terminal the live line
# shows; --log-every N prints plain timestamped lines with step, loss, samples/s and ETA.
source "$(dirname "$0")/lib.sh"
"$DPTRAIN" gen --out "$WORK/d.h5" --rows 1200 --features 8 --classes 3 --seed 5 >/dev/null
train="$DPTRAIN train --data $WORK/d.h5 --model softmax --epochs 2 --batch 100 --lr 0.3"
# A user at a terminal (script gives the run a controlling pseudo-terminal), no CI variables.
as_user() { env -u CI -u SLURM_JOB_ID TERM=xterm script -qec "$1" /dev/null >/dev/null; }
has_control_chars() { grep -c $'\r\|\033' "$1" || true; }

as_user "$MPIEXEC -np 2 --bind-to none $train --log-every 5 > $WORK/log.txt 2>&1"
[ "$(has_control_chars "$WORK/log.txt")" -eq 0 ] || { cat -A "$WORK/log.txt" | head >&2; fail "mpirun > file: progress codes in the file"; }
pass "mpirun > file: no \\r or escape codes in the file"

pattern='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z step (5|10|15|20|25)/24 epoch [12]/2 loss [0-9]+\.[0-9]{4} samples/s [0-9]+ eta [0-9]+:[0-5][0-9]:[0-5][0-9]$'
count=$(grep -cE "$pattern" "$WORK/log.txt" || true)
[ "$count" -eq 4 ] || { cat "$WORK/log.txt" >&2; fail "--log-every 5 over 24 steps: expected 4 step lines, saw $count"; }
grep -qE 'step 15/24 epoch 2/2 ' "$WORK/log.txt" || fail "step 15 is in epoch 2 (12 steps per epoch)"
pass "--log-every 5: $(grep -E "$pattern" "$WORK/log.txt" | head -1)"
# --log-timestamps stamps the line once, not twice.
run_mpi 1 train --data "$WORK/d.h5" --epochs 1 --batch 100 --log-every 12 --log-timestamps >"$WORK/ts.txt"
grep -qE '^[0-9-]{10}T[0-9:.]{12}Z step 12/12 epoch' "$WORK/ts.txt" || { cat "$WORK/ts.txt" >&2; fail "--log-timestamps with --log-every"; }
pass "--log-timestamps: one timestamp on the step line"

# The same run with mpirun on the user's terminal: the live line is there.
script -qec "env -u CI -u SLURM_JOB_ID TERM=xterm $MPIEXEC -np 2 --bind-to none $train" "$WORK/typescript" >/dev/null
[ "$(grep -c $'\033\\[K' "$WORK/typescript" || true)" -gt 0 ] || fail "mpirun on a terminal: no live progress line"
pass "mpirun on a terminal: live progress line shown"
# Without mpirun, stdout to a file: no codes either; --progress on forces the line.
as_user "$train > $WORK/single.txt"
[ "$(has_control_chars "$WORK/single.txt")" -eq 0 ] || fail "single process > file: progress codes in the file"
as_user "$MPIEXEC -np 2 --bind-to none $train --progress on > $WORK/forced.txt"
[ "$(has_control_chars "$WORK/forced.txt")" -gt 0 ] || fail "--progress on: no progress line"
pass "single process > file: clean; --progress on: live line forced"
