#!/bin/sh
# The prepaid product on the Phoenix site for 30 simulated days: the credit goes down day by day
# and what was debited is the grid energy times the grid price to the milli-cent; when the 40.00
# of commissioning credit runs out the service relay opens, and from then on the house draws
# nothing and owes nothing more.
#   prepaid_month.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
rm -rf "$out"; mkdir -p "$out"
"$meterd" --sku "$src/config/skus/prepaid.toml" --site "$src/config/sites/prepaid-phoenix.toml" \
  --simulate 30d > "$out/report.txt" 2> "$out/log.txt"
report="$out/report.txt"; log="$out/log.txt"
fail() { echo "$*"; exit 1; }
# The value after the OBIS code on the report line of $1, its decimal point dropped: mWh for Wh,
# milli-cents for dollars.
value() {
  grep -E "^  $1 " "$report" | awk '{ print $2 }' | tr -d '.' | sed -E 's/^(-?)0+([0-9])/\1\2/'
}
[ "$(grep -c '^-- plugin .*(running, 0 faults)' "$report")" -eq 3 ] || fail "$(grep '^-- plugin' "$report")"

import=$(value '1-0:1\.8\.0')
grid=$(value '0-0:128\.32\.1')
price=$(value '0-0:128\.31\.1')
debited=$(value '0-0:128\.34\.1')
total=$(value '0-0:128\.30\.14')
credit=$(value '0-0:128\.30\.0')
[ "$price" -eq 13200 ] || fail "grid price $price milli-cents/kWh"
[ "$grid" -eq "$import" ] || fail "grid energy $grid mWh, import register $import mWh"
[ "$debited" -eq $((import * price / 1000000)) ] ||
  fail "debited $debited milli-cents, energy x price $((import * price / 1000000))"
[ "$total" -eq "$debited" ] || fail "total debited $total, grid $debited"
[ "$credit" -eq $((4000000 - debited)) ] || fail "credit $credit, 40.00 - $debited"
[ "$(value '0-0:128\.30\.1')" -eq 0 ] || fail "a purchase nobody made"

# Tripped when the credit ran out, and nothing drawn since: the overdraft is one tick's worth.
grep -qE '^  relay 0 +open$' "$report" || fail "the service relay is not open"
[ "$(value '0-0:128\.33\.1')" -eq 1 ] || fail "grid relay state $(value '0-0:128\.33\.1'), not 1 (credit)"
grep -q 'credit exhausted at 2026-01-08T' "$log" || fail "no trip logged on the 8th"
grep -q 'grid relay 0 at 2026-01-08T.*: open: credit' "$log" || fail "no relay operation logged"
grep -q 'low credit at 2026-01-07T' "$log" || fail "no low-credit warning on the 7th"
[ "$credit" -le 0 ] && [ "$credit" -gt -100 ] || fail "credit $credit milli-cents after the trip"
fed=$(grep -E '^  fed \+A ' "$report" | awk '{ print $3 }' | tr -d '.')
[ "$fed" -eq "$import" ] || fail "the register $import mWh is not what the load model fed, $fed"

# The daily statements: the credit goes down until the trip, then stays.
grep -oE 'prepaid: 2026-01-[0-9]+ 00:00: credit -?[0-9.]+' "$log" | awk '{ print $NF }' > "$out/credits"
[ "$(wc -l < "$out/credits")" -ge 29 ] || fail "$(wc -l < "$out/credits") daily statements"
awk 'NR > 1 && $1 > last { print "credit rose from " last " to " $1; bad = 1 } { last = $1 }
     END { exit bad }' "$out/credits"
[ "$(head -1 "$out/credits")" = "34.49197" ] || fail "first statement $(head -1 "$out/credits")"
echo "prepaid month: $import mWh x $price = $debited milli-cents debited, credit $credit; relay open"
