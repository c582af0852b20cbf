#!/usr/bin/env bash
# The product decides what is legally relevant, not the plugin. Against a real meterd with the
# TOU product (tou is marked legally_relevant in config/skus/tou.toml):
#  - an impostor named tou that declares itself not relevant, put first on --plugins;
#  - the real tou.so copied without its signature;
#  - the real tou.so with another plugin's signature;
#  - the real tou.so where the SKU approves another software id;
# each is refused: --check and a new meter exit 2 naming the plugin at its SKU line; a meter
# already in service meters on with a latched legal fault (ERR08 on the LCD, bit 3 of the
# error register 0-0:97.97.0), and the forged register is never shown.
# A module vendor's key in the key ring signs only the plugins it is trusted for.
#   legal_relevance.sh MeterD SOURCE_DIR OUT_DIR IMPOSTOR_DIR PLUGIN_DIR METER_SIGN
set -euo pipefail
meterd="$1"; src="$2"; out="$3"; impostor="$4"; plugins="$5"; sign="$6"
sku="$src/config/skus/tou.toml"
site="$src/config/sites/toronto-tou.toml"
rm -rf "$out"
mkdir -p "$out/unsigned" "$out/wrong-signature"
fail() { echo "FAIL: $*"; for f in "$out"/*.err; do echo "--- $f"; tail -15 "$f"; done; exit 1; }
line=$(grep -n '^\[plugins\.tou\]$' "$sku" | cut -d: -f1)
cp "$plugins/tou.so" "$plugins/tou.toml" "$out/unsigned/"
cp "$plugins/tou.so" "$plugins/tou.toml" "$out/wrong-signature/"
cp "$plugins/demand.sig" "$out/wrong-signature/tou.sig"
sed "s/^\(\[plugins\.tou\]\)\$/\1\nsoftware_id = \"$(printf '0%.0s' $(seq 1 64))\"/" "$sku" > "$out/approved.toml"

# refused NAME REASON ARGS...: --check and a new meter exit 2, naming tou at its SKU line.
refused() {
  local name="$1" reason="$2" file="$3"
  shift 3
  for mode in --check "--simulate 1h"; do
    status=0
    # shellcheck disable=SC2086
    "$meterd" --site "$site" "$@" $mode > "$out/$name.out" 2> "$out/$name.err" || status=$?
    [ "$status" -eq 2 ] || fail "$name ($mode): exit status $status, expected 2"
    grep -qF "$file:$line:1: plugin 'tou', legally relevant to this product, was refused ($reason)" \
      "$out/$name.err" || fail "$name ($mode): the refusal does not name tou, its line and '$reason'"
    if grep -q "123456.789" "$out/$name.out"; then fail "$name: the forged register was shown"; fi
  done
}
refused impostor not-legally-relevant "$sku" --sku "$sku" --plugins "$impostor"
refused unsigned unsigned "$sku" --sku "$sku" --plugins "$out/unsigned"
refused wrong-signature bad-signature "$sku" --sku "$sku" --plugins "$out/wrong-signature"
refused not-approved not-approved "$out/approved.toml" --sku "$out/approved.toml"
echo "new meter: impostor, unsigned copy, wrong signature, unapproved build: each exit 2"

# A new meter refused leaves no store, so trying again is refused again (not "in service").
for try in 1 2; do
  status=0
  "$meterd" --sku "$sku" --site "$site" --plugins "$out/unsigned" --state "$out/new-meter" \
    --simulate 1h > /dev/null 2> "$out/new-meter.err" || status=$?
  [ "$status" -eq 2 ] || fail "a new meter without its signed tou, try $try: exit status $status"
  [ ! -e "$out/new-meter/meter.db" ] || fail "a refused new meter left a store (try $try)"
done
echo "new meter refused twice: no store left behind, still refused"

# The approved hash itself is accepted: the one the refusal said (the library's loaded image,
# as the software identification hashes it).
hash=$(sed -n 's/.*its SHA-256 is \([0-9a-f]\{64\}\), the product approves.*/\1/p' "$out/not-approved.err" | head -n 1)
[ -n "$hash" ] || fail "the refusal does not say the library's hash"
sed "s/^\(\[plugins\.tou\]\)\$/\1\nsoftware_id = \"$hash\"/" "$sku" > "$out/approved-right.toml"
"$meterd" --sku "$out/approved-right.toml" --site "$site" --check > /dev/null 2> "$out/right.err" ||
  fail "the approved software id was refused"

# A vendor's key: tou signed by "acme", whose key the ring trusts for tou only, then for demand.
mkdir -p "$out/vendor"
cp "$plugins/tou.so" "$plugins/tou.toml" "$out/vendor/"
"$sign" keygen --public "$out/acme.pub" --secret "$out/acme.key" > /dev/null
"$sign" sign --secret "$out/acme.key" "$out/vendor/tou.so" > /dev/null
for ids in '["tou"]' '["demand"]'; do
  printf '[[key]]\nname = "acme"\npublic_key = "%s"\nplugins = %s\n' "$(tr -d ' \n' < "$out/acme.pub")" "$ids" \
    > "$out/ring.toml"
  status=0
  "$meterd" --sku "$sku" --site "$site" --plugins "$out/vendor" --key-ring "$out/ring.toml" --check \
    > /dev/null 2> "$out/ring.err" || status=$?
  if [ "$ids" = '["tou"]' ]; then
    [ "$status" -eq 0 ] || fail "tou signed by a vendor trusted for tou was refused"
  else
    [ "$status" -eq 2 ] || fail "tou signed by a vendor trusted only for demand: exit $status"
    grep -qF "was refused (bad-signature)" "$out/ring.err" || fail "the vendor refusal is not said"
  fi
done
# A broken key ring is a configuration error at its place (exit 2), not a ring with a hole.
printf '[[key]]\nname = "acme"\npublic_key = "not-a-key"\n' > "$out/bad-ring.toml"
printf '[[key]]\nname = "acme"\nplugins = ["tou"]\nsecret = "x"\n' > "$out/odd-ring.toml"
for ring in bad-ring odd-ring; do
  status=0
  "$meterd" --sku "$sku" --site "$site" --key-ring "$out/$ring.toml" --check > /dev/null \
    2> "$out/$ring.err" || status=$?
  [ "$status" -eq 2 ] || fail "$ring: exit status $status, expected 2"
done
grep -qF "$out/bad-ring.toml:3:14: 'key.public_key' must be an Ed25519 public key" "$out/bad-ring.err" ||
  fail "a bad public key is not placed"
grep -qF "$out/odd-ring.toml:4:1: unknown key 'key[0].secret'" "$out/odd-ring.err" ||
  fail "an unknown key is not placed"
grep -qF "missing required key" "$out/odd-ring.err" || fail "a key without public_key is not refused"
echo "key ring: a vendor's signature counts for the plugins it is trusted for, and no other"

# In service: a store with a meter's past, then the impostor.
"$meterd" --sku "$sku" --site "$site" --state "$out/state" --simulate 1d > "$out/day1.out" \
  2> "$out/day1.err" || fail "the first day failed"
status=0
"$meterd" --sku "$sku" --site "$site" --state "$out/state" --plugins "$impostor" --simulate 1d \
  > "$out/day2.out" 2> "$out/day2.err" || status=$?
[ "$status" -eq 0 ] || fail "a meter in service stopped metering: exit status $status"
grep -q "LEGAL FAULT: plugin tou, legally relevant to this product, was refused" "$out/day2.err" ||
  fail "no legal fault said"
grep -Eq '^  \| .*ERR08' "$out/day2.out" || fail "the LCD does not show ERR08"
if grep -q "123456.789" "$out/day2.out"; then fail "the forged register was shown"; fi
value() { grep -E "^  $1 " "$2" | awk '{ for (i = 2; i <= NF; i++) if ($i == "Wh") print $(i - 1) }'; }
before=$(value '1-0:1\.8\.0' "$out/day1.out" | tr -d .)
after=$(value '1-0:1\.8\.0' "$out/day2.out" | tr -d .)
[ "$after" -gt "$before" ] || fail "+A did not advance in service: $before -> $after mWh"
echo "in service: metering on (+A $before -> $after mWh) with ERR08 and the fault said"
echo "legal relevance: 8 passed, 0 failed"
