#!/bin/bash
# Factors the balanced semiprimes of tests/data/semiprimes.txt through the real CLI,
# `zfactor factor --local`, and checks every answer against the known factors.
# Prints a markdown table: number, digits, CPU and wall seconds, peak RSS, the
# ladder's last rung (from --verbose's effort line) and whether the factors
# are right. Not a test: a benchmark that prints a table.
#
# usage: bench/siqs/run_set.sh [--zfactor PATH] [--min-digits 40] [--max-digits 80]
#                              [--numbers FILE] [--threads N]
# The size range is by the set's class (C40_1 has 39 digits but is in the 40 set).
# Exit status 1 when any answer is wrong or missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
zfactor="$root/build-siqs/bin/zfactor"
numbers="$root/tests/data/semiprimes.txt"
min_digits=40
max_digits=80
threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --zfactor) zfactor=$2; shift 2 ;;
    --min-digits) min_digits=$2; shift 2 ;;
    --max-digits) max_digits=$2; shift 2 ;;
    --numbers) numbers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "usage: $0 [--zfactor PATH] [--min-digits D] [--max-digits D] [--numbers FILE] [--threads N]" >&2
       exit 2 ;;
  esac
done
[ -x "$zfactor" ] || { echo "missing $zfactor (build the zfactor target)" >&2; exit 2; }
[ -r "$numbers" ] || { echo "missing $numbers" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "zfactor factor --local --threads $threads --verbose, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| number | digits | cpu s | wall s | peak RSS MB | SIQS (effort) | factors OK |"
echo "|---|---|---|---|---|---|---|"
bad=0
while read -r name digits n p q; do
  case "$name" in ''|'#'*) continue ;; esac
  class=$(echo "$name" | sed -n 's/^C\([0-9]*\)_.*/\1/p')
  [ -n "$class" ] && [ "$class" -ge "$min_digits" ] && [ "$class" -le "$max_digits" ] || continue
  /usr/bin/time -f "%U %S %e %M" -o "$tmp/time" \
    "$zfactor" factor --local --threads "$threads" --verbose "$n" >"$tmp/out" 2>"$tmp/err"
  read -r user sys wall rss_kb <"$tmp/time"
  cpu=$(echo "$user + $sys" | bc)
  # Expected: "n: p q" with p < q, both proven (no [PRP]/[C] marker).
  want=$(printf '%s\n%s\n' "$p" "$q" | sort -n | tr '\n' ' ' | sed 's/ $//')
  got=$(sed -n "s/^$n: //p" "$tmp/out")
  product=$(echo "$got" | tr -cd '0-9 \n' | tr ' ' '*' | sed 's/^$/0/' | BC_LINE_LENGTH=0 bc)
  ok=no
  [ "$got" = "$want" ] && [ "$product" = "$n" ] && ok=yes
  [ "$ok" = yes ] || bad=1
  siqs=$(grep -o "SIQS [0-9]* digits[^(]*([^)]*)" "$tmp/err" | head -1)
  [ -n "$siqs" ] || siqs="-"
  printf "| %s | %s | %.2f | %.2f | %.1f | %s | %s |\n" "$name" "$digits" "$cpu" "$wall" \
    "$(echo "$rss_kb / 1024" | bc -l)" "$siqs" "$ok"
  [ "$ok" = yes ] || { echo "  got: $(cat "$tmp/out") $(cat "$tmp/err")" >&2; }
done <"$numbers"
exit $bad
