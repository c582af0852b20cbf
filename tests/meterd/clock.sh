#!/bin/bash
# A clock that knows when it does not know (seed 001: energy goes to the default tier, rate C,
# while the meter does not know the real time), and a time set through a port that survives a
# restart.
#   - the TOU product on a winter Tuesday, simulated, with a 1 h outage at 05:00 local: rate B
#     (mid-peak, 11:00-17:00) accumulates when the board's clock kept the time; nothing but C
#     after the outage when the battery was drained (rtc_lost), when the board's clock came
#     back 2 h behind (rtc_error_s = -7200), or on a board without an RTC (rtc = false);
#   - real time: meterctl sets the clock to 2027-05-04 23:59:40 through the optical port,
#     meterd stops on SIGTERM and starts again: the clock still reads 2027, not the host's time.
#   clock.sh MeterD MeterCtl SOURCE_DIR OUT_DIR
set -euo pipefail
meterd="$1"; meterctl="$2"; src="$3"; out="$4"
rm -rf "$out"; mkdir -p "$out/boards"
fail() { echo "FAIL: $1"; exit 1; }

# --- simulated: what the board's clock kept through an outage ------------------------------
site() {  # site FILE HAPPENING-LINES
  sed 's/^start = 2026-01-01T05:00:00Z$/start = 2026-01-06T05:00:00Z/' \
    "$src/config/sites/toronto-tou.toml" > "$1"
  grep -q '^start = 2026-01-06T05:00:00Z$' "$1" || fail "the Toronto site's simulation start moved"
  printf '\n[[simulation.happenings]]\nkind = "power-failure"\nat = 2026-01-06T10:00:00Z\nlength_s = 3600\n%s\n' \
    "$2" >> "$1"
}
# The number before "Wh" on the report line of $2 in report $1.
wh() { grep -E "^  $2 " "$1" | awk '{ for (i = 2; i <= NF; i++) if ($i == "Wh") print $(i - 1) }'; }
mwh() { echo "$1" | tr -d '.'; }
run() {  # run NAME SKU HAPPENING-LINES
  site "$out/$1-site.toml" "$3"
  "$meterd" --sku "$2" --site "$out/$1-site.toml" --boards "$out/boards" --simulate 1d \
    > "$out/$1.txt" 2> "$out/$1.err" || { cat "$out/$1.err"; fail "$1: meterd failed"; }
  b=$(mwh "$(wh "$out/$1.txt" '1-0:1\.8\.2')")
  a=$(mwh "$(wh "$out/$1.txt" '1-0:1\.8\.1')")
  c=$(mwh "$(wh "$out/$1.txt" '1-0:1\.8\.3')")
  [ -n "$b" ] && [ -n "$c" ] || { cat "$out/$1.txt"; fail "$1: no rate registers in the report"; }
}

sku="$src/config/skus/tou.toml"
run kept "$sku" ""
[ "$b" -gt 0 ] || fail "kept: rate B is empty with the board's clock kept ($b mWh)"
a_kept=$a
if grep -q "ERR02" "$out/kept.txt"; then fail "kept: the display shows the time unknown"; fi
echo "clock kept through the outage: A $a, B $b, C $c mWh"

run lost "$sku" "rtc_lost = true"
[ "$b" -eq 0 ] || fail "rtc_lost: rate B took $b mWh while the meter did not know the time"
[ "$a" -lt "$a_kept" ] || fail "rtc_lost: rate A ($a) took energy after the outage"
# The error register's bit 1 (time unknown) on every screen of the display: ERR02.
grep -q "ERR02" "$out/lost.txt" || { cat "$out/lost.txt"; fail "rtc_lost: the display does not show the time unknown (ERR02)"; }
echo "battery drained in the outage: A $a, B $b, C $c mWh (all C after it)"

run behind "$sku" "rtc_error_s = -7200"
[ "$b" -eq 0 ] || fail "rtc_error_s: rate B took $b mWh from a clock that went backwards"
echo "board clock 2 h behind after the outage: A $a, B $b, C $c mWh"

# A board without a battery-backed clock never knows the time by itself.
sed -e 's/^id = "focus-2s-240v"$/id = "focus-2s-240v-nortc"/' -e 's/^\[hardware\]$/[hardware]\nrtc = false/' \
  "$src/boards/descriptors/focus-2s-240v.toml" > "$out/boards/focus-2s-240v-nortc.toml"
grep -q '^rtc = false$' "$out/boards/focus-2s-240v-nortc.toml" || fail "no [hardware] in the board"
sed 's/^board = "focus-2s-240v"$/board = "focus-2s-240v-nortc"/' "$sku" > "$out/nortc-sku.toml"
grep -q 'focus-2s-240v-nortc' "$out/nortc-sku.toml" || fail "the TOU SKU's board moved"
run nortc "$out/nortc-sku.toml" ""
[ "$a" -eq 0 ] && [ "$b" -eq 0 ] || fail "rtc = false: rates A ($a) and B ($b) took energy by an unknown time"
echo "board without an RTC: A $a, B $b, C $c mWh (all C)"

# A happening's clock keys belong to power failures only.
site "$out/bad-site.toml" ""
printf '\n[[simulation.happenings]]\nkind = "time-jump"\nat = 2026-01-06T12:00:00Z\njump_s = 60\nrtc_lost = true\n' \
  >> "$out/bad-site.toml"
set +e
"$meterd" --sku "$sku" --site "$out/bad-site.toml" --check > /dev/null 2> "$out/bad.err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "rtc_lost on a time-jump: exit $rc, not 2"
grep -q "bad-site.toml:[0-9]*:[0-9]*: .*'rtc_lost' describes the board's clock after an outage" "$out/bad.err" ||
  { cat "$out/bad.err"; fail "rtc_lost on a time-jump: no located error"; }
echo "rtc_lost on a time-jump: refused with file, line and column"

# --- real time: a time set through the optical port survives a restart ---------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$sku" "$out/sku.toml"
if ! grep -q '^\[plugins\.optical\]' "$out/sku.toml"; then
  printf '\n[plugins.optical]\nversion = "1.0.0"\ngrants = ["io", "port:optical"]\n' >> "$out/sku.toml"
fi
printf '\n[plugins.optical.settings]\ntransport = "tcp"\naddress = "127.0.0.1"\nport = %s\n' \
  "$port" >> "$out/sku.toml"
pid=
start() {
  "$meterd" --sku "$out/sku.toml" --site "$src/config/sites/toronto-tou.toml" --state "$out/state" \
    >> "$out/meterd.out" 2>> "$out/meterd.err" &
  pid=$!
  for i in $(seq 150); do
    "$meterctl" --connect "tcp://127.0.0.1:$port" identify > /dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out/meterd.err"; fail "meterd stopped"; }
    sleep 0.1
  done
  fail "meterd's optical port never answered"
}
stop() { [ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }; }
trap stop EXIT
clock() {
  "$meterctl" --connect "tcp://127.0.0.1:$port" --password dev-reader read 0-0:1.0.0 > "$out/clock.out" 2>&1 ||
    { cat "$out/clock.out"; fail "read 0-0:1.0.0 failed"; }
  cat "$out/clock.out"
}
start
"$meterctl" --connect "tcp://127.0.0.1:$port" --password dev-configurator set-time "2027-05-04 23:59:40" \
  > "$out/set.out" 2>&1 || { cat "$out/set.out"; fail "set-time refused"; }
clock | grep -Eq '2027-05-0[45]' || fail "the clock does not read the time just set: $(cat "$out/clock.out")"
stop
start
clock | grep -Eq '2027-05-0[45]' ||
  fail "after a restart the clock reads $(cat "$out/clock.out"), not the time set before it"
stop
echo "a time set through the optical port (2027-05-04 23:59:40) survives SIGTERM and a restart"
