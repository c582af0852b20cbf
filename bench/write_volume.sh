#!/usr/bin/env bash
# What a real-time meter with a state folder sends to the block device, read from the kernel's
# own account of the process (/proc/<pid>/io write_bytes: bytes it caused to be written to the
# storage layer), over a run of real time. Per-tick commits go to the tick journal in shared
# memory and must not show here; only the durable flushes (store file and board copy) do.
#
#   bash bench/write_volume.sh [seconds=600] [flush period=15m] [meterd=build/bin/meterd]
#
# Prints the bytes written over the run, and the rate per day.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
period="${2:-15m}"
meterd="${3:-build/bin/meterd}"
state="$(mktemp -d "${TMPDIR:-/var/tmp}/write-volume.XXXXXX")"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$state"' EXIT

# Unsupervised: the metering process is the one whose counters are read. /var/tmp, not a tmpfs.
"$meterd" --sku config/skus/tou.toml --site config/sites/toronto-tou.toml --state "$state" \
  --no-supervisor --flush-period "$period" >/dev/null 2>"$state.err" &
pid=$!
sleep 5  # past commissioning and the first flush: the steady state is what is measured
read_bytes() { awk '/^write_bytes:/ { print $2 }' "/proc/$pid/io"; }
begin=$(read_bytes)
sleep "$seconds"
end=$(read_bytes)
kill -TERM "$pid"
wait "$pid" || true
rm -f "$state.err"
written=$((end - begin))
per_day=$((written * 86400 / seconds))
echo "write_volume: ${seconds} s real time, flush period ${period}: ${written} bytes to the block layer"
echo "write_volume: $((per_day / 1024)) KiB/day ($(awk -v b="$per_day" 'BEGIN { printf "%.2f", b / 1048576 }') MiB/day)"
