#!/bin/sh
# Everything a meter keeps survives a restart: the TOU product (kernel registers, rate
# registers, demand maxima and cumulative, the load profile, the audit trail and its counters)
# run as two days in one go, and as one day, a restart from its store, and another day, ends in
# the same state.
#   restart_equals_straight.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
rm -rf "$out"; mkdir -p "$out"
run() { "$meterd" --sku "$src/config/skus/tou.toml" --site "$src/config/sites/toronto-tou.toml" "$@"; }
run --state "$out/straight" --simulate 2d > "$out/straight.txt"
run --state "$out/restarted" --simulate 1d > "$out/first-day.txt"
run --state "$out/restarted" --simulate 1d > "$out/restarted.txt"
# What a restart must not change: every register, rate register, demand value and its time,
# billing history, the load profile's record count, the audit counters and the chain.
keep='^  (1-0:99\.1\.0|1-0:[12]\.[2-8]\.[0-4]|1-0:[12]\.128\.[0-4]|1-0:16\.8\.0|1-0:[5-8]\.8\.0|0-0:128\.6\.[12]|0-0:98\.1\.0) '
grep -E "$keep" "$out/straight.txt" > "$out/straight.keep"
grep -E "$keep" "$out/restarted.txt" > "$out/restarted.keep"
lines=$(wc -l < "$out/straight.keep")
[ "$lines" -ge 20 ] || { echo "only $lines objects compared"; exit 1; }
if ! diff -u "$out/straight.keep" "$out/restarted.keep"; then
  echo "a restart changed what the meter keeps"; exit 1
fi
grep -q 'chain intact' "$out/restarted.txt" || { echo "audit chain not intact after restart"; exit 1; }
echo "restart equals straight run: $lines objects"
