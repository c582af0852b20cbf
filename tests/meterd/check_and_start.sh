#!/usr/bin/env bash
# meterd before it meters: `--check` has no side effects (the store's bytes, the broker's
# retained messages and the listening sockets are as they were), a state folder another meterd
# holds is refused, --oem-key takes hex or a key file, and a missing or wrong SKU or site file
# is a configuration error (exit 2) naming the path.
#   check_and_start.sh MeterD SOURCE_DIR OUT_DIR OEM_PUBLIC_KEY_FILE
set -euo pipefail
meterd="$1"; src="$2"; out="$3"; oem="$4"
sku="$src/config/skus/tou.toml"
site="$src/config/sites/toronto-tou.toml"
rf_sku="$src/config/skus/tou-demand-rf.toml"
rf_site="$src/config/sites/toronto-tou-rf.toml"
rm -rf "$out"
mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$out"/*.err; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
digest() { (cd "$1" && find . -type f ! -name meterd.pid -print0 | sort -z | xargs -0 sha256sum); }
expect_status() {  # expect_status WANT NAME: the last command's status, saved in $status
  [ "$status" -eq "$1" ] || fail "$2: exit status $status, expected $1"
}

# --- --check leaves the store exactly as it was --------------------------------------------
"$meterd" --sku "$sku" --site "$site" --state "$out/state" --simulate 2h > "$out/first.out" \
  2> "$out/first.err" || fail "the first run failed"
before=$(digest "$out/state")
for _ in 1 2 3; do
  "$meterd" --sku "$sku" --site "$site" --state "$out/state" --check > "$out/check.out" \
    2> "$out/check.err" || fail "--check refused a valid configuration"
done
grep -q "configuration is valid" "$out/check.out" || fail "--check gave no verdict"
[ "$(digest "$out/state")" = "$before" ] || fail "--check changed the store"
echo "check: three --check runs left the store's bytes unchanged"

# --- --check binds, listens and connects nowhere -------------------------------------------
strace -f -qq -e trace=bind,listen,connect -o "$out/check.strace" \
  "$meterd" --sku "$rf_sku" --site "$rf_site" --check > /dev/null 2> "$out/strace.err" ||
  fail "--check under strace failed"
if grep -E 'AF_INET|listen\(' "$out/check.strace"; then fail "--check opened a network socket"; fi
echo "check: no bind, listen or connect on an IP socket (strace)"

# --- --check with a broker listening: nothing published, no client connects ---------------
port=$((21000 + $$ % 20000))
for _ in $(seq 1 10); do
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n' \
    "$port" > "$out/mosquitto.conf"
  mosquitto -c "$out/mosquitto.conf" 2> "$out/broker.err" &
  broker=$!
  pids+=("$broker")
  up=0
  for _ in $(seq 1 50); do
    mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m up 2>/dev/null && { up=1; break; }
    kill -0 "$broker" 2>/dev/null || break
    sleep 0.1
  done
  [ "$up" -eq 1 ] && break
  kill "$broker" 2>/dev/null || true
  port=$((port + 1))
done
[ "$up" -eq 1 ] || fail "no port for the broker"
sed "s/^broker_port = 1883\$/broker_port = $port/" "$rf_site" > "$out/rf-site.toml"
"$meterd" --sku "$rf_sku" --site "$out/rf-site.toml" --check > /dev/null 2> "$out/rf-check.err" ||
  fail "--check of the RF product failed"
retained=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t 'meters/#' -v -W 2 2>/dev/null || true)
[ -z "$retained" ] || fail "--check left retained messages: $retained"
if grep -q "MPR2S-000001" "$out/broker.err"; then fail "the meter's client connected during --check"; fi
# A simulation keeps the link off too, unless the site asks (tests/rf_mqtt/sku_checks.sh).
"$meterd" --sku "$rf_sku" --site "$out/rf-site.toml" --simulate 1h > "$out/rf-sim.out" \
  2> "$out/rf-sim.err" || fail "the RF product's simulation failed"
retained=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t 'meters/#' -v -W 2 2>/dev/null || true)
[ -z "$retained" ] || fail "a simulation published as the real meter: $retained"
if grep -q "MPR2S-000001" "$out/broker.err"; then fail "a simulation connected as the real meter"; fi
echo "check: the broker on 127.0.0.1:$port saw no client and holds no retained message"

# --- a state folder in use is refused, and nothing is changed -------------------------------
"$meterd" --sku "$sku" --site "$site" --state "$out/live" > "$out/live.out" 2> "$out/live.err" &
live=$!
pids+=("$live")
for _ in $(seq 1 100); do [ -s "$out/live/meterd.pid" ] && break; sleep 0.1; done
holder=$(tr -d '\n' < "$out/live/meterd.pid")
# The meter with a store runs supervised: the holder is the meter, a child of the meterd started.
[ "$holder" = "$live" ] || [ "$(ps -o ppid= -p "$holder" | tr -d ' ')" = "$live" ] ||
  fail "the pid recorded ($holder) is not the running meter's"
status=0
"$meterd" --sku "$sku" --site "$site" --state "$out/live" --simulate 1h > "$out/second.out" \
  2> "$out/second.err" || status=$?
expect_status 2 "a second meterd on a state folder in use"
grep -qF "meterd: state folder $out/live in use by pid $holder" "$out/second.err" ||
  fail "the refusal does not name the folder and the pid"
[ ! -s "$out/second.out" ] || fail "the second meterd metered"
kill -TERM "$live"
for _ in $(seq 1 50); do kill -0 "$live" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$live" 2>/dev/null; then fail "the live meter did not stop on SIGTERM"; fi
wait "$live" || fail "the live meter exited with an error"
"$meterd" --sku "$sku" --site "$site" --state "$out/live" --simulate 1m > /dev/null \
  2> "$out/after.err" || fail "the folder is still held after the meter stopped"
echo "lock: a second meterd was refused with the holder's pid $holder; the folder is free after"

# --- --oem-key: hex or a file ---------------------------------------------------------------
hex=$(tr -d ' \n' < "$oem")
"$meterd" --sku "$sku" --site "$site" --oem-key "$hex" --check > /dev/null 2> "$out/oem-hex.err" ||
  fail "--oem-key with 64 hex digits"
"$meterd" --sku "$sku" --site "$site" --oem-key "$oem" --check > /dev/null 2> "$out/oem-file.err" ||
  fail "--oem-key with a key file"
status=0
"$meterd" --sku "$sku" --site "$site" --oem-key "$out/no-such.key" --check > /dev/null \
  2> "$out/oem-missing.err" || status=$?
expect_status 2 "--oem-key naming a missing file"
grep -qF "meterd: --oem-key $out/no-such.key: neither 64 hex digits" "$out/oem-missing.err" ||
  fail "a missing key file is not said as such"
status=0
"$meterd" --sku "$sku" --site "$site" --oem-key "" --check > /dev/null 2> "$out/oem-empty.err" || status=$?
expect_status 2 "an empty --oem-key (an unset variable in a script)"
grep -qF "meterd: --oem-key is empty" "$out/oem-empty.err" || fail "an empty --oem-key is not said as such"
echo "oem key: hex and file accepted; a missing file and an empty argument refused"

# --- missing or wrong files: exit 2 with the path ------------------------------------------
mkdir -p "$out/a-directory.toml"
mkfifo "$out/a-pipe.toml"
for bad in "$out/missing.toml" "$out/a-directory.toml" "$out/a-pipe.toml" /dev/zero; do
  for which in sku site; do
    status=0
    if [ "$which" = sku ]; then
      timeout 20 "$meterd" --sku "$bad" --site "$site" --check > /dev/null 2> "$out/file.err" ||
        status=$?
    else
      timeout 20 "$meterd" --sku "$sku" --site "$bad" --check > /dev/null 2> "$out/file.err" ||
        status=$?
    fi
    expect_status 2 "--$which $bad"
    grep -qF "$bad: cannot be read" "$out/file.err" || fail "--$which $bad: the path is not named"
  done
done
echo "files: a missing file, a directory, a pipe and /dev/zero, as SKU and as site, exit 2 naming the path"
echo "meterd before metering: 5 passed, 0 failed"
