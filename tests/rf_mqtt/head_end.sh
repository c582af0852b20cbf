#!/bin/sh
# The TOU and demand meter with its RF module, end to end against a real broker: mosquitto on a
# free 127.0.0.1 port, meterd in real time with config/skus/tou-demand-rf.toml and a site
# pointing at that port, mosquitto_sub as the head-end. A reading and the birth arrive; a ping
# and a demand reset (the development configurator password) are answered ok and a wrong
# password is denied; a billing preset, a -A reset and switching the optical port off are
# refused through comms; SIGTERM (a power failure) brings the last gasp and an offline status;
# a meter killed outright leaves the will. Every wait is bounded; everything started is stopped.
#   head_end.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
broker=/usr/sbin/mosquitto
meter=MPR2S-000001
base="meters/$meter"
if [ ! -x "$broker" ] || ! command -v mosquitto_sub >/dev/null || ! command -v mosquitto_pub >/dev/null; then
  echo "mosquitto, mosquitto_sub or mosquitto_pub is missing: scripts/setup installs them"
  exit 77
fi
rm -rf "$out"
mkdir -p "$out"

broker_pid=""; sub_pid=""; meter_pid=""
cleanup() {
  for p in $meter_pid $sub_pid $broker_pid; do kill "$p" 2>/dev/null || true; done
  for p in $meter_pid $sub_pid $broker_pid; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; for f in sub.log meterd.err broker.log; do echo "--- $f"; tail -40 "$out/$f" 2>/dev/null || true; done; exit 1; }

# wait_for FILE PATTERN SECONDS: until a line of FILE matches the extended regular expression.
wait_for() {
  i=0
  while [ "$i" -lt $(($3 * 10)) ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
    i=$((i + 1))
  done
  fail "no line matching '$2' in $(basename "$1") within $3 s"
}
# wait_exit PID SECONDS: until the process has exited.
wait_exit() {
  i=0
  while [ "$i" -lt $(($2 * 10)) ]; do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
    sleep 0.1
    i=$((i + 1))
  done
  fail "process $1 still running after $2 s"
}
send() { mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$base/cmd" -m "$1"; }

# The broker, on the first free port of a few tried.
port=$((20000 + $$ % 20000))
tries=0
while :; do
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' "$port" \
    > "$out/mosquitto.conf"
  "$broker" -c "$out/mosquitto.conf" 2> "$out/broker.log" &
  broker_pid=$!
  i=0
  while [ "$i" -lt 50 ] && kill -0 "$broker_pid" 2>/dev/null; do
    mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m up 2>/dev/null && break
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$broker_pid" 2>/dev/null && mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m up 2>/dev/null; then
    break
  fi
  kill "$broker_pid" 2>/dev/null || true
  wait "$broker_pid" 2>/dev/null || true
  tries=$((tries + 1))
  [ "$tries" -lt 10 ] || fail "no port for the broker"
  port=$((port + 1))
done

# The head-end, subscribed before the meter starts (a retained probe proves it).
mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -v -t "$base/#" > "$out/sub.log" &
sub_pid=$!
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t "$base/probe" -m ready
wait_for "$out/sub.log" "^$base/probe ready" 10

sed "s/^broker_port = 1883\$/broker_port = $port/" "$src/config/sites/toronto-tou-rf.toml" > "$out/site.toml"
grep -q "^broker_port = $port\$" "$out/site.toml" || fail "the site file has no broker_port = 1883 line"

# The meter, in real time.
"$meterd" --sku "$src/config/skus/tou-demand-rf.toml" --site "$out/site.toml" \
  > "$out/meterd.out" 2> "$out/meterd.err" &
meter_pid=$!
wait_for "$out/sub.log" "^$base/status .*\"state\":\"online\"" 20
wait_for "$out/sub.log" "^$base/reading .*\"registers\":\{.*\"1-0:1\.8\.0\":\{\"scaler\":-3,\"unit\":\"Wh\",\"value\":[0-9]+\}" 20

send '{"id":"e2e-ping","action":"ping"}'
wait_for "$out/sub.log" "^$base/reply .*\"id\":\"e2e-ping\".*\"status\":\"ok\"" 10

send '{"id":"e2e-wrong","password":"not-the-password","action":"demand-reset"}'
wait_for "$out/sub.log" "^$base/reply .*\"id\":\"e2e-wrong\".*\"status\":\"denied\"" 10

send '{"id":"e2e-reset","password":"dev-configurator","action":"demand-reset"}'
wait_for "$out/sub.log" "^$base/reply .*\"id\":\"e2e-reset\".*\"status\":\"ok\"" 10
# The reset went through the gate (ParameterChanged, via comms) and the demand plugin did it.
wait_for "$out/sub.log" "^$base/event .*\"event\":\"parameter-changed\".*\"obis\":\"0-0:10\.0\.1\".*\"via\":\"comms\"" 10
wait_for "$out/sub.log" "^$base/event .*\"count\":1.*\"event\":\"demand-reset\"" 10

# Another inside the reset lockout: refused as unavailable, with the demand plugin's reason.
send '{"id":"e2e-again","password":"dev-configurator","action":"demand-reset"}'
wait_for "$out/sub.log" "^$base/reply .*\"id\":\"e2e-again\"" 10
grep -E "^$base/reply .*\"id\":\"e2e-again\"" "$out/sub.log" | grep -q '"status":"unavailable"' ||
  fail "a demand reset in its lockout is not answered unavailable"
grep -E "^$base/reply .*\"id\":\"e2e-again\"" "$out/sub.log" | grep -Eq '"error":"[^"]*locked out for another [0-9]+ s' ||
  fail "a demand reset in its lockout is not answered with the reason"

# Billing reset and preset, and the optical port's switch, are the meter shop's, on site (seed
# 000): refused through comms even with the configurator's password, with the reason.
for cmd in 'e2e-preset","password":"dev-configurator","action":"write","obis":"0-0:128.7.1","value":777000000' \
           'e2e-reset-export","password":"dev-configurator","action":"write","obis":"0-0:128.7.2","value":0' \
           'e2e-port-off","password":"dev-configurator","action":"write","obis":"0-0:128.6.4","value":false'; do
  id=${cmd%%\"*}
  send "{\"id\":\"$cmd}"
  wait_for "$out/sub.log" "^$base/reply .*\"id\":\"$id\"" 10
  grep -E "^$base/reply .*\"id\":\"$id\"" "$out/sub.log" | grep -q '"status":"denied"' ||
    fail "$id through comms is not denied"
  grep -E "^$base/reply .*\"id\":\"$id\"" "$out/sub.log" | grep -q 'only on site' ||
    fail "$id through comms is not refused as a site-only change"
done

send '{"id":"e2e-bad","action":"demand-reset","now":true}'
wait_for "$out/sub.log" "^$base/reply .*\"id\":\"e2e-bad\".*\"status\":\"invalid\"" 10

# SIGTERM is a power failure: the last gasp, then the goodbye.
kill -TERM "$meter_pid"
wait_exit "$meter_pid" 20
meter_pid=""
wait_for "$out/sub.log" "^$base/outage .*\"event\":\"last-gasp\"" 10
wait_for "$out/sub.log" "^$base/status .*\"reason\":\"power-fail\".*\"state\":\"offline\"" 10
grep -q "0-0:128.50.0 *up" "$out/meterd.out" || fail "the report does not show the link up"
grep -Eq "0-0:128.50.5 +1 " "$out/meterd.out" || fail "the report does not count the malformed command"

# A meter that dies without a word: the broker publishes its will.
"$meterd" --sku "$src/config/skus/tou-demand-rf.toml" --site "$out/site.toml" \
  > "$out/meterd2.out" 2> "$out/meterd2.err" &
meter_pid=$!
i=0
until [ "$(grep -c "^$base/status .*\"state\":\"online\"" "$out/sub.log")" -ge 2 ]; do
  i=$((i + 1))
  [ "$i" -lt 200 ] || fail "the second meter did not come online"
  sleep 0.1
done
kill -KILL "$meter_pid"
wait "$meter_pid" 2>/dev/null || true
meter_pid=""
wait_for "$out/sub.log" "^$base/status .*\"reason\":\"link-lost\".*\"state\":\"offline\"" 10

echo "head-end: $(grep -c '' "$out/sub.log") messages on port $port: birth, reading, ping, denied and ok demand resets, refused command, last gasp, goodbye, will"
