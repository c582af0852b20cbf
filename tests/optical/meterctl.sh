#!/bin/sh
# meterctl, the meter shop's client, against meterd's optical port on 127.0.0.1: meterd runs the
# TOU product in real time with the optical port on a free port; meterctl identifies the meter
# (the board descriptor's manufacturer code, model and serial), reads a register with the
# reader's password, is refused a wrong password, presets +A as a configurator (the
# configuration counter steps by one), sets the display multiplier, seals the meter and is
# refused a billing reset as sealed, unseals as a calibrator, sets the time, prints the audit
# trail with those changes, and finds the port locked after three wrong passwords. meterd then
# stops on SIGTERM and exits cleanly.
#   meterctl.sh MeterD MeterCtl SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; meterctl="$2"; src="$3"; out="$4"
rm -rf "$out"; mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The TOU product with its optical port on our port.
cp "$src/config/skus/tou.toml" "$out/sku.toml"
if ! grep -q '^\[plugins\.optical\]' "$out/sku.toml"; then
  printf '\n[plugins.optical]\nversion = "1.0.0"\ngrants = ["io", "port:optical"]\n' >> "$out/sku.toml"
fi
printf '\n[plugins.optical.settings]\ntransport = "tcp"\naddress = "127.0.0.1"\nport = %s\n' \
  "$port" >> "$out/sku.toml"

"$meterd" --sku "$out/sku.toml" --site "$src/config/sites/toronto-tou.toml" --state "$out/state" \
  > "$out/meterd.out" 2> "$out/meterd.err" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT

fail() { echo "$1"; for f in "$out"/step.*; do echo "--- $f"; cat "$f"; done; exit 1; }
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
# The number meterctl read prints after the OBIS code.
value() { awk 'NR == 1 { print $2 }' "$out/step.out"; }

# Wait (bounded) until meterd's optical port answers an identify.
i=0
until "$meterctl" --connect "tcp://127.0.0.1:$port" identify > "$out/step.out" 2> "$out/step.err"; do
  i=$((i + 1))
  [ "$i" -lt 150 ] || { echo "meterd's optical port never answered"; cat "$out/meterd.err" "$out/step.err"; exit 1; }
  kill -0 "$pid" 2>/dev/null || { echo "meterd stopped"; cat "$out/meterd.err"; exit 1; }
  sleep 0.1
done

ctl 0 identify
grep -Eq '^manufacturer: +MPR$' "$out/step.out" || fail "identify: manufacturer is not MPR"
grep -Eq '^model: +MPR-2S$' "$out/step.out" || fail "identify: model is not MPR-2S"
grep -Eq '^serial number: +MPR2S-000001$' "$out/step.out" || fail "identify: serial is not the descriptor's"
grep -Eq '^role: +public' "$out/step.out" || fail "identify: no password is not the public role"

ctl 0 --password dev-reader read 1-0:1.8.0
grep -Eq '^1-0:1\.8\.0  [0-9]+\.[0-9]{3,6} kWh$' "$out/step.out" || fail "read: no +A reading in kWh"

ctl 5 --password not-the-password read 1-0:1.8.0
[ "$(cat "$out/step.err")" = "meterctl: wrong password (the meter answered isc)" ] ||
  fail "a wrong password is not worded as one"

# A billing preset is a configuration change: the configuration counter steps by one.
ctl 0 --password dev-configurator read 0-0:128.6.2
before=$(value)
ctl 0 --password dev-configurator billing preset +A 12.5
grep -q '^billing preset: +A (1-0:1.8.0) set to 12.500 kWh$' "$out/step.out" || fail "billing preset: no confirmation"
ctl 0 --password dev-reader read 0-0:128.7.1 0-0:128.6.2
preset=$(value)
after=$(awk 'NR == 2 { print $2 }' "$out/step.out")
# The register keeps metering after the preset: 12.5 kWh and what flowed since (under 1 kWh).
awk -v v="$preset" 'BEGIN { exit !(v >= 12.5 && v < 13.5) }' || fail "0-0:128.7.1 reads $preset kWh after a preset to 12.5"
grep -Eq '^0-0:128\.7\.1  12\.5[0-9]* kWh$' "$out/step.out" || fail "0-0:128.7.1 is not 12.5 kWh in kWh"
[ "$after" -eq $(((before + 1) % 1000)) ] || fail "configuration counter went from $before to $after"

# A demand reset, then another inside the lockout: the second is refused as a timing
# constraint (the plugin's 'unavailable' passed through), not as an invalid parameter.
ctl 0 --password dev-configurator demand-reset
set +e
"$meterctl" --connect "tcp://127.0.0.1:$port" --password dev-configurator demand-reset \
  > "$out/step.out" 2> "$out/step.err"
got=$?
set -e
[ "$got" -ne 0 ] || fail "a demand reset inside the lockout was done"
grep -q "timing constraint" "$out/step.out" "$out/step.err" ||
  fail "a demand reset inside the lockout is not refused as a timing constraint"
if grep -q "invalid parameter" "$out/step.out" "$out/step.err"; then
  fail "a demand reset inside the lockout reads as an invalid parameter"
fi
grep -Eq "the meter says: .*locked out for another [0-9]+ s" "$out/step.err" ||
  fail "a demand reset inside the lockout does not carry the meter's reason"

ctl 0 --password dev-configurator multiplier 2

# A 32-day calendar is longer than one procedure's parameters: meterctl writes it in pieces
# (MP-7) and the whole of it arrives.
days=""
n=0
while [ "$n" -lt 32 ]; do
  n=$((n + 1))
  days="$days\"weekend\", "
done
calendar="start = $(date -u +%F)
days = [${days%, }]"
[ "$(printf '%s' "$calendar" | wc -c)" -gt 255 ] || fail "the test's calendar fits one procedure"
ctl 0 --password dev-configurator write 0-0:11.0.0 text "$calendar"
ctl 0 --password dev-reader read 0-0:11.0.0
[ "$(grep -o weekend "$out/step.out" | wc -l)" -eq 32 ] || fail "the 32-day calendar did not arrive whole"
ctl 0 --password dev-reader read 0-0:128.8.0
[ "$(value)" = "2" ] || fail "display multiplier is not 2"

# Sealed, a billing reset is refused; a calibrator breaks the seal again.
ctl 0 --password dev-configurator seal
ctl 0 identify
grep -Eq '^seal: +sealed: electronic seal$' "$out/step.out" || fail "identify: the seal is not shown"
ctl 9 --password dev-configurator billing reset +A
[ "$(cat "$out/step.err")" = "meterctl: the meter is sealed: billing reset of +A was refused (dlk); the meter says: object 0-0:128.7.1 is a sealed configuration parameter" ] ||
  fail "the sealed refusal is not worded as one, with the meter's reason"
ctl 8 --password dev-configurator unseal
ctl 0 --password dev-calibrator unseal
ctl 0 identify
grep -Eq '^seal: +unsealed$' "$out/step.out" || fail "identify: still sealed after unseal"

ctl 0 --password dev-configurator set-time --now
grep -q '^clock set to ' "$out/step.out" || fail "set-time: no confirmation"

ctl 0 --password dev-reader audit
cp "$out/step.out" "$out/audit.txt"
grep -q '^AUDIT TRAIL' "$out/audit.txt" || fail "audit: no report"
grep -q '^meter: MPR MPR-2S MPR2S-000001$' "$out/audit.txt" || fail "audit: the meter is not named"
grep -Eq 'configuration +0-0:128\.7\.1  .* -> 12500000  by optical-port/configurator' "$out/audit.txt" ||
  fail "audit: no record of the billing preset"
grep -Eq 'configuration +0-0:128\.8\.0  1 -> 2  by optical-port/configurator' "$out/audit.txt" ||
  fail "audit: no record of the multiplier"
grep -Eq '  seal ' "$out/audit.txt" || fail "audit: no seal records"
grep -Eq '  time-change ' "$out/audit.txt" || fail "audit: no time change"
grep -Eq '  logon-failed ' "$out/audit.txt" || fail "audit: no failed logon"

# Three wrong passwords lock the port; the right one is then refused as locked.
ctl 5 --password guess-1 identify
ctl 5 --password guess-2 identify
ctl 5 --password guess-3 identify
ctl 6 --password dev-reader identify
grep -q '^meterctl: the optical port is locked after failed logons; try again later' "$out/step.err" ||
  fail "a locked port is not worded as one"

trap - EXIT
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { echo "meterd exited $status on SIGTERM"; cat "$out/meterd.err"; exit 1; }
echo "meterctl against meterd on 127.0.0.1:$port: identify, read, wrong password, preset, multiplier, seal, unseal, set-time, audit, lockout: ok"
