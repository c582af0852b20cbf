#!/bin/sh
# The TOU and demand meter, comms module variant, as a product: its SKU and site load; two
# simulated days with no broker listening keep metering and report the link as down (not a
# failure); with a scroll time of 8 s the SKU is refused at the scroll time, with file, line and
# column, because the module is approved only with 10 s or more.
#   sku_checks.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
sku="$src/config/skus/tou-demand-rf.toml"
site="$src/config/sites/toronto-tou-rf.toml"
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $*"; for f in "$out"/*.err "$out"/*.out; do echo "--- $f"; tail -30 "$f"; done; exit 1; }

"$meterd" --sku "$sku" --site "$site" --check > "$out/check.out" 2> "$out/check.err" ||
  fail "the SKU and site are refused"
grep -q "configuration is valid" "$out/check.out" || fail "no verdict from --check"

# A port where nothing listens: the site's own 1883 might have a broker on some machines.
port=$((30000 + $$ % 20000))
while mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m x 2>/dev/null; do port=$((port + 1)); done
sed "s/^broker_port = 1883\$/broker_port = $port/" "$site" > "$out/site.toml"
# A simulation is not the real meter: by default its link stays off and nothing connects.
"$meterd" --sku "$sku" --site "$out/site.toml" --simulate 1h > "$out/off.out" 2> "$out/off.err" ||
  fail "meterd failed in a simulation"
grep -Eq "0-0:128\.50\.0 +off \(simulation\) " "$out/off.out" || fail "a simulation's link is not off"
grep -Eq "0-0:128\.50\.1 +0 " "$out/off.out" || fail "a simulation tried to connect"
# Asked for (simulation_link), a simulation connects: here to a port where nothing listens.
sed "s/^broker_port = $port\$/broker_port = $port\nsimulation_link = true/" "$out/site.toml" > "$out/site-link.toml"
mv "$out/site-link.toml" "$out/site.toml"
"$meterd" --sku "$sku" --site "$out/site.toml" --simulate 2d > "$out/sim.out" 2> "$out/sim.err" ||
  fail "meterd failed without a broker"
grep -Eq "^-- plugin rf_mqtt 1\.0\.0 \(running, 0 faults\)" "$out/sim.out" || fail "rf_mqtt is not running"
grep -Eq "0-0:128\.50\.0 +down " "$out/sim.out" || fail "the link is not reported down"
grep -Eq "0-0:128\.50\.7 +connect to 127\.0\.0\.1:$port: Connection refused" "$out/sim.out" ||
  fail "the link error is not reported"
import=$(grep -E '^  1-0:1\.8\.0 ' "$out/sim.out" | awk '{print $2}')
awk -v v="$import" 'BEGIN { exit !(v > 10) }' || fail "the meter did not meter: +A is $import Wh"

# Scroll time 8 s: refused where the module is named, with the rule broken.
sed 's/^scroll_time_s = 10$/scroll_time_s = 8/' "$sku" > "$out/tou-demand-rf-8s.toml"
line=$(grep -n '^scroll_time_s = 8$' "$out/tou-demand-rf-8s.toml" | cut -d: -f1)
status=0
"$meterd" --sku "$out/tou-demand-rf-8s.toml" --site "$site" --simulate 2d > "$out/8s.out" 2> "$out/8s.err" ||
  status=$?
[ "$status" -eq 2 ] || fail "exit status $status for a broken constraint, expected 2"
grep -qF "$out/tou-demand-rf-8s.toml:$line:17: constraint broken: rf_mqtt requires display.scroll_time_s >= 10, the meter has 8" \
  "$out/8s.err" || fail "the refusal does not name file, line and column"
echo "tou-demand-rf: loads; 2 days without a broker: +A $import Wh, link down; 8 s scroll refused at line $line"
