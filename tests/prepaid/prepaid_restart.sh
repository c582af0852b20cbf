#!/bin/sh
# The prepaid account survives meterd's restarts through its SQLite store: three days in one go,
# and two days, a restart, and one more, end with the same credit, debits, energy per source,
# relay state and counters -- across an outage on the first day and the trip on the second.
#   prepaid_restart.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
rm -rf "$out"; mkdir -p "$out"
site="$src/tests/prepaid/restart-site.toml"
run() { "$meterd" --sku "$src/config/skus/prepaid.toml" --site "$site" "$@"; }
run --state "$out/straight" --simulate 3d > "$out/straight.txt" 2> "$out/straight.log"
run --state "$out/restarted" --simulate 2d > "$out/first.txt" 2> "$out/first.log"
run --state "$out/restarted" --simulate 1d > "$out/restarted.txt" 2> "$out/restarted.log"
keep='^  (1-0:1\.8\.0|0-0:128\.3[0-4]\.[0-9]+|relay [0-9]) '
grep -E "$keep" "$out/straight.txt" | grep -v '0-0:128\.30\.13 ' > "$out/straight.keep"
grep -E "$keep" "$out/restarted.txt" | grep -v '0-0:128\.30\.13 ' > "$out/restarted.keep"
lines=$(wc -l < "$out/straight.keep")
[ "$lines" -ge 25 ] || { echo "only $lines objects compared"; exit 1; }
if ! diff -u "$out/straight.keep" "$out/restarted.keep"; then
  echo "a restart changed the prepaid account"; exit 1
fi
grep -qE '^  relay 0 +closed$' "$out/first.txt" || { echo "tripped before the restart"; exit 1; }
grep -qE '^  relay 0 +open$' "$out/restarted.txt" || { echo "the relay did not trip"; exit 1; }
! grep -q 'a new account' "$out/restarted.log" || { echo "the restart opened a new account"; exit 1; }
echo "prepaid restart equals straight run: $lines objects"
