#!/bin/sh
# Tokens end to end through the optical port: meterd runs the prepaid product in real time with
# its optical port on a free port of 127.0.0.1; the vending tool makes a token for the site's
# meter key; meterctl enters it (a reader's logon: the optical port writes nothing for the
# public). The credit and the total purchase grow by its amount; the same token again, a forged
# one, one made with another meter's key and a malformed one are refused and counted and change
# nothing; emergency credit is refused while there is credit. meterd stops on SIGTERM, starts
# again from its store, and still refuses the token as used.
#   prepaid_tokens.sh MeterD MeterCtl PrepaidToken SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; meterctl="$2"; vend="$3"; src="$4"; out="$5"
rm -rf "$out"; mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
site="$src/config/sites/prepaid-phoenix.toml"
cp "$src/config/skus/prepaid.toml" "$out/sku.toml"
printf '\n[plugins.optical.settings]\ntransport = "tcp"\naddress = "127.0.0.1"\nport = %s\n' \
  "$port" >> "$out/sku.toml"

pid=""
start_meter() {
  "$meterd" --sku "$out/sku.toml" --site "$site" --state "$out/state" \
    >> "$out/meterd.out" 2>> "$out/meterd.err" &
  pid=$!
  # Wait (bounded) until the optical port answers.
  i=0
  until "$meterctl" --connect "tcp://127.0.0.1:$port" identify > /dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 150 ] || { echo "meterd's optical port never answered"; cat "$out/meterd.err"; exit 1; }
    kill -0 "$pid" 2>/dev/null || { echo "meterd stopped"; cat "$out/meterd.err"; exit 1; }
    sleep 0.1
  done
}
stop_meter() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap stop_meter EXIT

fail() { echo "$1"; cat "$out/meterctl.log"; exit 1; }
# ctl EXPECTED-EXIT ARGS...
ctl() {
  expected="$1"; shift
  set +e
  "$meterctl" --connect "tcp://127.0.0.1:$port" "$@" > "$out/step.out" 2> "$out/step.err"
  got=$?
  set -e
  cat "$out/step.out" "$out/step.err" >> "$out/meterctl.log"
  [ "$got" -eq "$expected" ] || fail "meterctl $* exited $got, not $expected"
}
# read OBIS: its value as meterctl prints it, with the decimal point dropped (milli-cents).
read_value() { ctl 0 read "$1"; awk '{ print $2 }' "$out/step.out" | tr -d '.' | sed -E 's/^(-?)0+([0-9])/\1\2/'; }
enter() { ctl "$1" --password dev-reader write 0-0:128.30.7 text "$2"; }

start_meter
key=$(sed -n 's/^meter_key = "\([0-9a-f]*\)"$/\1/p' "$site")
# As printed on the receipt, in groups of four; typed here without the spaces.
token=$("$vend" make --key "$key" --amount 20.00 2> /dev/null | tr -d ' ')
other=$("$vend" make --key 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
  --amount 20.00 2> /dev/null | tr -d ' ')
last=$(printf '%s' "$token" | tail -c 1)
forged="$(printf '%s' "$token" | sed 's/.$//')$(( (last + 1) % 10 ))"

before=$(read_value 0-0:128.30.0)
enter 0 "$token"
grep -q "^0-0:128.30.7 written: $token\$" "$out/step.out" || fail "no confirmation of the token"
[ "${#token}" -eq 20 ] || fail "the vending tool made \"$token\""
[ "$(read_value 0-0:128.30.1)" -eq 2000000 ] || fail "total purchase is not 20.00000"
after=$(read_value 0-0:128.30.0)
# The purchase, less what the house drew meanwhile (a real-time second or two, far under 1.00).
[ "$after" -le $((before + 2000000)) ] && [ "$after" -gt $((before + 1900000)) ] ||
  fail "credit went from $before to $after milli-cents"
[ "$(read_value 0-0:128.30.8)" -eq 2 ] || fail "last token result is not accepted (2)"
[ "$(read_value 0-0:128.30.9)" -eq 1 ] || fail "tokens accepted is not 1"

for case in "$token 5" "$forged 4" "$other 4" "1234-5678 3"; do
  digits=${case% *}; result=${case#* }
  enter 1 "$digits"
  [ "$(read_value 0-0:128.30.8)" -eq "$result" ] || fail "token $digits: result is not $result"
done
[ "$(read_value 0-0:128.30.10)" -eq 4 ] || fail "tokens refused is not 4"
[ "$(read_value 0-0:128.30.1)" -eq 2000000 ] || fail "a refused token changed the total purchase"
ctl 1 --password dev-reader write 0-0:128.30.3 bool true
grep -q 'emergency credit refused: the credit has not run out' "$out/meterd.err" ||
  fail "the emergency credit refusal was not logged"

stop_meter
start_meter
[ "$(read_value 0-0:128.30.1)" -eq 2000000 ] || fail "the total purchase did not survive a restart"
enter 1 "$token"
[ "$(read_value 0-0:128.30.8)" -eq 5 ] || fail "after a restart the token is not refused as used"
stop_meter
grep -q 'token .* accepted at .*: +20.00000 USD' "$out/meterd.err" || fail "the purchase was not logged"
echo "tokens through the optical port: accepted once, replay, forgery, other key, malformed refused"
