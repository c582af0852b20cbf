#!/bin/sh
# The demo: the TOU product on the Toronto PV household for 30 simulated days. Its import and
# export registers equal the load model's exact energy to the mWh, every plugin runs without
# a fault, and the rate registers add up to the totals.
#   demo_month.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
mkdir -p "$out"
"$meterd" --sku "$src/config/skus/tou.toml" --site "$src/config/sites/toronto-tou.toml" \
  --simulate 30d > "$out/report.txt"
# The number before "Wh" on the line that starts with $1.
value() { grep -E "^  $1 " "$out/report.txt" | awk '{ for (i = 2; i <= NF; i++) if ($i == "Wh") print $(i - 1) }'; }
[ "$(value '1-0:1\.8\.0')" = "$(value 'fed \+A')" ] || { echo "import $(value '1-0:1\.8\.0') != fed $(value 'fed \+A')"; exit 1; }
[ "$(value '1-0:2\.8\.0')" = "$(value 'fed -A')" ] || { echo "export $(value '1-0:2\.8\.0') != fed $(value 'fed -A')"; exit 1; }
[ "$(grep -c '^-- plugin .*(running, 0 faults)' "$out/report.txt")" -eq 5 ] || { grep '^-- plugin' "$out/report.txt"; exit 1; }
grep -q 'ticks fed' "$out/report.txt"
mwh() { echo "$1" | tr -d '.'; }
sum=0
for r in 1 2 3 4; do sum=$((sum + $(mwh "$(value "1-0:1\.8\.$r")"))); done
[ "$sum" -eq "$(mwh "$(value '1-0:1\.8\.0')")" ] || { echo "rates add up to $sum mWh"; exit 1; }
echo "demo month: +A $(value '1-0:1\.8\.0') Wh = fed; -A $(value '1-0:2\.8\.0') Wh = fed; rates add up"
