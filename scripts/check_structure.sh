#!/usr/bin/env bash
# The structure rules of README.md ("Code map"): no function in src/ longer than 100 lines
# (the CLI option tables, add_*_command, excepted) and no folder of src/ holding more than
# 30% of its lines. Prints the figures; exits 1 when a rule is broken, 77 (skip) without ctags.
# Usage: scripts/check_structure.sh [MAX_FUNCTION_LINES] [MAX_FOLDER_PERCENT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
max_lines=${1:-100} max_percent=${2:-30}
command -v ctags >/dev/null || { echo "SKIP: ctags (universal-ctags) is not installed"; exit 77; }
cd "$root"
status=0

# Functions: ctags gives each definition's first and last line; lambdas count in their function.
functions=$(find src -name '*.cpp' -o -name '*.hpp' | sort |
  xargs ctags --c++-kinds=f --fields=+ne --extras=-F -o - 2>/dev/null |
  awk -F'\t' '$1 !~ /^__anon/ && $1 !~ /^add_.*_command$/ {
    line = ""; end = "";
    for (i = 4; i <= NF; i++) { if ($i ~ /^line:/) line = substr($i, 6); if ($i ~ /^end:/) end = substr($i, 5) }
    if (line != "" && end != "") print end - line + 1, $2 ":" line, $1 }' | sort -rn)
[ -n "$functions" ] || { echo "FAIL: ctags found no functions in src/"; exit 1; }
count=$(wc -l <<<"$functions")
echo "functions: $count; longest:"
head -5 <<<"$functions" | sed 's/^/  /'
long=$(awk -v max="$max_lines" '$1 > max' <<<"$functions")
if [ -n "$long" ]; then
  echo "FAIL: functions longer than $max_lines lines:"; sed 's/^/  /' <<<"$long"; status=1
fi

# Folders: lines of src/<folder>/ over all lines of src/.
total=$(find src -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0 | xargs -0 cat | wc -l)
echo "src/: $total lines"
for folder in src/*/; do
  lines=$(find "$folder" -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0 | xargs -0 cat | wc -l)
  percent=$(( 100 * lines / total ))
  printf '  %-14s %6d lines  %3d%%\n' "$folder" "$lines" "$percent"
  if [ $(( 100 * lines )) -gt $(( max_percent * total )) ]; then
    echo "FAIL: $folder holds more than $max_percent% of src/"; status=1
  fi
done
[ "$status" -eq 0 ] && echo "PASS: no function over $max_lines lines, no folder over $max_percent% of src/"
exit $status
