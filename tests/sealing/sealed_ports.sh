#!/bin/sh
# The optical port under the seal rules, against a real meterd (the TOU product, category 3) on
# 127.0.0.1 through meterctl:
#  1. the sealing plug fitted (seed 004): every write the port offers is refused as sealed, no
#     counter steps, and each refusal is in the event log with object, interface and role;
#  2. a flood of wrong passwords (40, through a lockout of one second): the event logger still
#     records, a configurator still configures, and the flood costs a few counted records;
#  3. the optical port disabled by a configurator (seed 000): nothing listens, across a restart;
#     the local button under the cover switches it on again only with the cover seal broken;
#  4. a site file that changes the tariff: refused on the sealed meter (exit 2), counted and
#     recorded on the unsealed one.
#   sealed_ports.sh MeterD MeterCtl SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; meterctl="$2"; src="$3"; out="$4"
rm -rf "$out"; mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The TOU product, its optical port on our port, a lockout of one second so the flood can pass.
sed 's/^lockout_s = 900$/lockout_s = 1/' "$src/config/skus/tou.toml" > "$out/sku.toml"
grep -q '^lockout_s = 1$' "$out/sku.toml" || { echo "tou.toml has no lockout_s = 900 line"; exit 1; }
printf '\n[plugins.optical.settings]\ntransport = "tcp"\naddress = "127.0.0.1"\nport = %s\n' \
  "$port" >> "$out/sku.toml"
cp "$src/config/sites/toronto-tou.toml" "$out/site-plug.toml"
printf '\n[simulation.seals]\noptical-plug = true\n' >> "$out/site-plug.toml"

pid=""
stop_meter() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
  pid=""
  [ "$status" -eq 0 ] || { echo "meterd exited $status on SIGTERM"; cat "$out/meterd.err"; exit 1; }
}
trap 'kill -TERM $pid 2>/dev/null || true' EXIT

fail() { echo "FAIL: $1"; for f in "$out"/step.* "$out/meterd.err"; do echo "--- $f"; cat "$f"; done; exit 1; }
# ctl EXPECTED-EXIT ARGS...: runs meterctl, keeps its output in step.out and step.err.
ctl() {
  expected="$1"; shift
  set +e
  "$meterctl" --connect "tcp://127.0.0.1:$port" "$@" > "$out/step.out" 2> "$out/step.err"
  got=$?
  set -e
  cat "$out/step.out" "$out/step.err" >> "$out/meterctl.log"
  [ "$got" -eq "$expected" ] || fail "meterctl $* exited $got, not $expected"
}
value() { awk 'NR == 1 { print $2 }' "$out/step.out"; }
# start_meter SITE: meterd on the state folder, until its optical port answers (bounded).
start_meter() {
  "$meterd" --sku "$out/sku.toml" --site "$1" --state "$out/state" \
    >> "$out/meterd.out" 2> "$out/meterd.err" &
  pid=$!
  i=0
  until "$meterctl" --connect "tcp://127.0.0.1:$port" identify > "$out/step.out" 2> "$out/step.err"; do
    i=$((i + 1))
    [ "$i" -lt 150 ] || fail "meterd's optical port never answered"
    kill -0 "$pid" 2>/dev/null || fail "meterd stopped"
    sleep 0.1
  done
}
# refused_as_sealed ARGS...: meterctl exits 9 and says the meter is sealed.
refused_as_sealed() {
  ctl 9 --password dev-configurator "$@"
  grep -q "sealed" "$out/step.err" || fail "meterctl $* is not refused as sealed"
}

# 1. The sealing plug is fitted.
start_meter "$out/site-plug.toml"
ctl 0 identify
grep -Eq '^seal: +sealed: optical port sealing plug$' "$out/step.out" || fail "identify: the plug is not shown"
ctl 0 --password dev-reader read 0-0:128.6.2
counter=$(value)
ctl 0 --password dev-reader read 0-0:96.14.0
rate=$(value)
refused_as_sealed set-time "2027-05-04 23:59:40"
refused_as_sealed demand-reset
refused_as_sealed billing preset +A 777
refused_as_sealed billing reset -A
refused_as_sealed multiplier 3
refused_as_sealed write 0-0:96.14.1 text 'start = "2026-01-01 00:00:00"'
refused_as_sealed write 0-0:13.0.1 text 'weekday = ["00:00 D"]'
refused_as_sealed write 0-0:128.6.4 bool false
refused_as_sealed seal
ctl 9 --password dev-calibrator unseal
ctl 0 --password dev-reader read 0-0:128.6.2 0-0:96.14.0 0-0:128.6.4
[ "$(value)" = "$counter" ] || fail "the configuration counter moved from $counter to $(value) behind the plug"
grep -Eq "^0-0:96\.14\.0  $rate\$" "$out/step.out" || fail "the active rate changed behind the plug"
grep -Eq '^0-0:128\.6\.4  true$' "$out/step.out" || fail "the optical port was switched behind the plug"
ctl 0 --password dev-reader audit
cp "$out/step.out" "$out/audit-plug.txt"
for obis in 0-0:1\\.0\\.0 0-0:10\\.0\\.1 0-0:128\\.7\\.1 0-0:128\\.7\\.2 0-0:128\\.8\\.0 0-0:96\\.14\\.1 0-0:13\\.0\\.1 0-0:128\\.6\\.4; do
  grep -Eq "write-refused +$obis  by optical-port/configurator  sealed: .*sealing plug" "$out/audit-plug.txt" ||
    fail "audit: no refused write of $obis behind the plug"
done
stop_meter

# 1b. The same sealed meter started with a site file whose tariff differs: refused (exit 2),
# placed at the setting, and the meter keeps the tariff it holds.
sed 's/^weekday = \["00:00 A", "07:00 C"/weekday = ["00:00 A", "08:00 C"/' "$out/site-plug.toml" \
  > "$out/site-plug-tariff.toml"
if cmp -s "$out/site-plug.toml" "$out/site-plug-tariff.toml"; then fail "the test's tariff change changed nothing"; fi
set +e
timeout 60 "$meterd" --sku "$out/sku.toml" --site "$out/site-plug-tariff.toml" --state "$out/state" \
  > "$out/meterd-tariff.out" 2> "$out/meterd-tariff.err"
got=$?
set -e
[ "$got" -eq 2 ] || fail "a sealed meter started with another tariff exited $got, not 2"
grep -Eq "site-plug-tariff\.toml:[0-9]+:[0-9]+: plugin tou: the settings of plugin tou \(seasons\) differ from what the meter holds, and the meter is sealed: optical port sealing plug" \
  "$out/meterd-tariff.err" || fail "the refused tariff change is not explained"

# 2. The plug is taken out (a site without it); 40 wrong passwords, then a configurator.
start_meter "$src/config/sites/toronto-tou.toml"
n=0
while [ "$n" -lt 40 ]; do
  n=$((n + 1))
  set +e
  "$meterctl" --connect "tcp://127.0.0.1:$port" --password "guess-$n" identify > "$out/step.out" 2> "$out/step.err"
  got=$?
  set -e
  [ "$got" -eq 5 ] || [ "$got" -eq 6 ] || fail "wrong password $n: meterctl exited $got, not 5 or 6"
done
sleep 1.2  # the lockout of the last three
ctl 0 --password dev-reader read 0-0:128.6.6 0-0:99.98.2
grep -Eq '^0-0:128\.6\.6  true$' "$out/step.out" || fail "the event logger stopped recording after 40 wrong passwords"
ctl 0 --password dev-configurator multiplier 2
ctl 0 --password dev-reader read 0-0:128.8.0
[ "$(value)" = "2" ] || fail "a configurator could not configure after the flood"
# An outsider's write without a password is refused by the gate like any other: recorded.
ctl 8 write 0-0:13.0.1 text 'weekday = ["00:00 C"]'
stop_meter   # an orderly stop writes the repeats counted
start_meter "$src/config/sites/toronto-tou.toml"
ctl 0 --password dev-reader audit
cp "$out/step.out" "$out/audit-flood.txt"
grep -Eq 'repeated +optical-port  logon-failed -> [0-9]+ more' "$out/audit-flood.txt" ||
  fail "audit: the repeated wrong passwords are not counted"
failed=$(grep -c '  logon-failed ' "$out/audit-flood.txt" || true)
[ "$failed" -le 4 ] || fail "audit: $failed records of failed logons for one flood"
grep -Eq 'configuration +0-0:128\.8\.0  1 -> 2  by optical-port/configurator' "$out/audit-flood.txt" ||
  fail "audit: no record of the multiplier set after the flood"
grep -Eq 'write-refused +0-0:13\.0\.1  by optical-port/public' "$out/audit-flood.txt" ||
  fail "audit: no record of the write refused to the public role"

# 3. The port disabled on site: nothing listens, and still nothing after a restart.
ctl 0 --password dev-configurator write 0-0:128.6.4 bool false
listening() {
  python3 - "$port" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
sys.exit(0)
EOF
}
i=0
while listening; do
  i=$((i + 1))
  [ "$i" -lt 50 ] || fail "the disabled optical port still accepts connections"
  sleep 0.1
done
ctl 3 identify
stop_meter
"$meterd" --sku "$out/sku.toml" --site "$src/config/sites/toronto-tou.toml" --state "$out/state" \
  >> "$out/meterd.out" 2> "$out/meterd-disabled.err" &
pid=$!
i=0
until grep -q "optical port disabled" "$out/meterd-disabled.err"; do
  i=$((i + 1))
  [ "$i" -lt 150 ] || fail "meterd did not say its optical port is disabled"
  kill -0 "$pid" 2>/dev/null || fail "meterd stopped"
  sleep 0.1
done
if listening; then fail "the disabled optical port listens again after a restart"; fi
stop_meter

# The local button under the cover, held a second after the start: with the cover sealed the
# port stays off; with the seal broken it comes back.
button_site() {  # button_site FILE SEALED(true|false)
  cp "$src/config/sites/toronto-tou.toml" "$1"
  at=$(date -u -d '+2 seconds' '+%Y-%m-%dT%H:%M:%SZ')
  printf '
[simulation.seals]
cover = %s

[[simulation.happenings]]
kind = "optical-port-button"
at = %s
' \
    "$2" "$at" >> "$1"
}
press_button() {  # press_button SITE LOG: meterd until it says what the button did (bounded)
  "$meterd" --sku "$out/sku.toml" --site "$1" --state "$out/state" >> "$out/meterd.out" 2> "$2" &
  pid=$!
  i=0
  until grep -q "local button" "$2"; do
    i=$((i + 1))
    [ "$i" -lt 150 ] || fail "meterd did not say what the local button did"
    kill -0 "$pid" 2>/dev/null || fail "meterd stopped"
    sleep 0.1
  done
}
button_site "$out/site-sealed-button.toml" true
press_button "$out/site-sealed-button.toml" "$out/meterd-sealed-button.err"
grep -q "local button: the optical port stays off: the optical port was disabled: re-enabling it needs the seal broken" \
  "$out/meterd-sealed-button.err" || fail "the button switched the port on under a sealed cover"
if listening; then fail "the optical port listens after the button under a sealed cover"; fi
stop_meter
button_site "$out/site-open-button.toml" false
press_button "$out/site-open-button.toml" "$out/meterd-open-button.err"
grep -q "local button: the optical port is switched on" "$out/meterd-open-button.err" ||
  fail "the button did not switch the port on with the seal broken"
i=0
until listening; do
  i=$((i + 1))
  [ "$i" -lt 50 ] || fail "the optical port does not listen after the button"
  sleep 0.1
done
ctl 0 --password dev-reader read 0-0:128.6.4
grep -Eq '^0-0:128\.6\.4  true$' "$out/step.out" || fail "0-0:128.6.4 is not true after the button"
ctl 0 --password dev-reader audit
grep -Eq 'configuration +0-0:128\.6\.4  false -> true  by local-button/configurator' "$out/step.out" ||
  fail "audit: no record of the optical port switched on by the local button"
stop_meter

# 4. The tariff changed on the unsealed meter: applied, counted and recorded.
sed 's/^weekday = \["00:00 A", "07:00 C"/weekday = ["00:00 A", "08:00 C"/' \
  "$src/config/sites/toronto-tou.toml" > "$out/site-tariff.toml"
start_meter "$out/site-tariff.toml"
ctl 0 --password dev-reader audit
grep -Eq 'configuration +0-0:128\.6\.8  tou [0-9a-f]{16} -> tou [0-9a-f]{16}  by kernel/configurator \(site file: tou \(seasons\)\)' \
  "$out/step.out" || fail "audit: no record of the tariff changed by the site file"
stop_meter
trap - EXIT
echo "optical port on 127.0.0.1:$port: plug refuses every write, 40 wrong passwords cost $failed records, disabled port inert across a restart, back only by the button unsealed: ok"
