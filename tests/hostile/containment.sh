#!/usr/bin/env bash
# A plugin that segfaults, aborts, loops forever or leaks in its tick handler never stops the
# meter. The TOU product plus the hostile `crasher` runs in real time with a store (so
# supervised), on a board replaying a steady 3600 W (1 mWh a millisecond): within 5 s of the
# fault the meter is metering again without the plugin, and its registers hold the energy of
# every millisecond since the first tick, the restart's included (the board's chip counts on
# while the meter's processor starts again; nothing lost, nothing counted twice). The plugin is
# named in the audit trail and by meterctl identify; SIGTERM is honoured within 2 s, even
# while a plugin hangs. A leak is found two ways: by the heap the plugin's calls keep
# (--plugin-heap-limit) and by the meter's resident size (--memory-limit).
#   containment.sh MeterD SOURCE_DIR OUT_DIR CRASHER_DIR METERCTL
set -euo pipefail
meterd="$1"; src="$2"; out="$3"; crasher="$4"; meterctl="$5"
rm -rf "$out"
mkdir -p "$out"
toronto="$src/config/sites/toronto-tou.toml"
# The Toronto TOU site on a replayed steady load: 3600 W (the board's 1½ elements are one
# element's current), from 2020 to 2040.
site="$out/steady-site.toml"
sed '/^\[simulation\]/,$d' "$toronto" > "$site"
printf '[simulation]\nmodel = "replay"\nreplay_file = "steady.csv"\n' >> "$site"
printf 'timestamp,p1_w,q1_var,v1_v\n%s\n%s\n' "2020-01-01T00:00:00Z,3600.0,0.0,240.0" \
  "2040-01-01T00:00:00Z,3600.0,0.0,240.0" > "$out/steady.csv"
# Each line of meterd's output with the microsecond it was read, for the energy check.
stamp() { while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done; }
# energy_over STAMPED: "+A's move (mWh) from the first tick line to the last, the ms between
# them, and how many mWh short of 1 a ms it is".
energy_over() {
  sleep 0.2  # the stamped copy lags the plain one by a line at most
  local w1 e1 wn en
  read -r w1 e1 < <(grep -m 1 ' tick ' "$1" | awk '{ print $1, $4 }')
  read -r wn en < <(grep ' tick ' "$1" | tail -n 1 | awk '{ print $1, $4 }')
  echo "$((en - e1)) $(( (wn - w1) / 1000 )) $(( (wn - w1) / 1000 - (en - e1) ))"
}
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$out"/*.err; do echo "--- $f"; tail -15 "$f"; done; exit 1; }
now_ms() { date +%s%3N; }
# wait_for FILE PATTERN SECONDS
wait_for() {
  local end=$(($(now_ms) + $3 * 1000))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    [ "$(now_ms)" -lt "$end" ] || fail "no line matching '$2' in $(basename "$1") within $3 s"
    sleep 0.05
  done
}
# The active energy of a trace line (import + export, mWh): it moves every tick.
active() { awk '{ print $3 + $4 }'; }

sku_with() {  # sku_with MODE AFTER_TICKS [NAME]: the TOU product with the crasher, as NAME.toml
  cp "$src/config/skus/tou.toml" "$out/${3:-$1}.toml"
  printf '\n[plugins.crasher]\nversion = "1.0.0"\n\n[plugins.crasher.settings]\nmode = "%s"\nafter_ticks = %s\n' \
    "$1" "$2" >> "$out/${3:-$1}.toml"
}

for mode in segfault abort hang leak grow; do
  limits=()
  case "$mode" in
    leak) sku_with leak 3; limits=(--plugin-heap-limit 16) ;;
    grow) sku_with leak 3 grow; limits=(--plugin-heap-limit 100000 --memory-limit 64) ;;
    *) sku_with "$mode" 3 ;;
  esac
  "$meterd" --sku "$out/$mode.toml" --site "$site" --state "$out/$mode" --plugins "$crasher" \
    "${limits[@]}" --trace > >(tee "$out/$mode.out" | stamp > "$out/$mode.stamped") \
    2> "$out/$mode.err" &
  pid=$!
  pids+=("$pid")
  wait_for "$out/$mode.err" "plugin crasher (killed the meter with signal|hung|leaked)" 60
  fault=$(now_ms)
  # Metering again: a second start from the store, then ticks that go on from it.
  wait_for "$out/$mode.out" "^start intact" 5
  restart_line=$(grep -n '^start ' "$out/$mode.out" | sed -n 2p | cut -d: -f1)
  [ -n "$restart_line" ] || fail "$mode: no second start"
  end=$(($(now_ms) + 5000))
  until [ "$(tail -n +"$restart_line" "$out/$mode.out" | grep -c '^tick ')" -ge 2 ]; do
    [ "$(now_ms)" -lt "$end" ] || fail "$mode: no ticks after the restart"
    sleep 0.05
  done
  back=$(($(now_ms) - fault))
  [ "$back" -le 5000 ] || fail "$mode: metering again only after $back ms"
  # A tick line is printed before its tick commits, and a plugin that dies inside the tick
  # takes that tick's commit with it (the plugins' writes and the kernel's are one unit): the
  # restart may be one tick behind the last line, never more.
  before=$(head -n "$restart_line" "$out/$mode.out" | grep '^tick ' | tail -n 2 | head -n 1 | active)
  restored=$(sed -n "${restart_line}p" "$out/$mode.out" | awk '{ print $6 + $7 }')
  after=$(tail -n +"$restart_line" "$out/$mode.out" | grep '^tick ' | tail -n 1 | active)
  [ "$restored" -ge "$before" ] || fail "$mode: restarted from $restored mWh, below $before mWh"
  [ "$after" -gt "$restored" ] || fail "$mode: the registers did not advance after the restart"
  # The energy: from the first tick line to the last, +A moved by the milliseconds between
  # them (1 mWh each), give or take the lines' scheduling; a restart without the chip's count
  # would be a second or more short.
  read -r moved span_ms short < <(energy_over "$out/$mode.stamped")
  [ "${short#-}" -le 250 ] ||
    fail "$mode: +A moved $moved mWh in $span_ms ms of a steady 3600 W ($short mWh short)"
  grep -q "the board counted [0-9]* ms while the meter started again" "$out/$mode.err" ||
    fail "$mode: the restart did not book what the board counted"
  grep -q "crasher refused (crashed)" "$out/$mode.err" || fail "$mode: the plugin was not refused"
  # A meter shop's identify names it (the optical port of the restarted meter).
  port=$(sed -n 's/.*optical port on tcp 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/$mode.err" | tail -n 1)
  "$meterctl" --connect "tcp://127.0.0.1:$port" identify > "$out/$mode-identify.out" \
    2> "$out/$mode-identify.err" || fail "$mode: meterctl identify failed"
  grep -Eq "^plugins off: +crasher \(crashed\): (killed the meter|hung|leaked)" \
    "$out/$mode-identify.out" ||
    fail "$mode: identify does not name crasher: $(cat "$out/$mode-identify.out")"
  # SIGTERM: honoured within 2 s, orderly.
  t0=$(now_ms)
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  took=$(($(now_ms) - t0))
  [ "$status" -eq 0 ] || fail "$mode: exit status $status after SIGTERM"
  [ "$took" -le 2000 ] || fail "$mode: SIGTERM took $took ms"
  grep -q '^stopped ' "$out/$mode.out" || fail "$mode: no orderly stop"
  # The audit trail names it.
  "$meterd" --sku "$src/config/skus/tou.toml" --site "$site" --state "$out/$mode" --simulate 1s \
    --print-audit > "$out/$mode-audit.out" 2> "$out/$mode-audit.err" || fail "$mode: no audit"
  grep -E "plugin-refused +crasher: crashed" "$out/$mode-audit.out" > /dev/null ||
    fail "$mode: the audit trail does not name crasher as crashed"
  echo "$mode: metering again $back ms after the fault ($before -> $restored -> $after mWh;" \
    "$moved mWh in $span_ms ms), stopped in $took ms"
done

# The kernel's registers: no SKU can grant them, and a plugin that writes them anyway (at its
# stop, as the meter powers down) is refused; the registers read on as they were.
cp "$src/config/skus/tou.toml" "$out/thief.toml"
printf '\n[plugins.thief]\nversion = "1.0.0"\n' >> "$out/thief.toml"
sed 's/^\(\[plugins\.thief\]\)$/\1\ngrants = ["nvm:kernel"]/' "$out/thief.toml" > "$out/thief-granted.toml"
status=0
"$meterd" --sku "$out/thief-granted.toml" --site "$toronto" --plugins "$crasher" --check > /dev/null \
  2> "$out/thief-granted.err" || status=$?
[ "$status" -eq 2 ] || fail "an SKU granting nvm:kernel: exit status $status, expected 2"
grep -q "is granted 'nvm:kernel': the kernel's registers .* are never granted" "$out/thief-granted.err" ||
  fail "the nvm:kernel grant is not refused as such"
"$meterd" --sku "$out/thief.toml" --site "$toronto" --plugins "$crasher" --state "$out/thief" \
  --simulate 1h --trace > "$out/thief1.out" 2> "$out/thief1.err" || fail "the thief's first hour"
grep -q "kernel/registers refused" "$out/thief1.err" || fail "the thief's write was not refused"
"$meterd" --sku "$src/config/skus/tou.toml" --site "$toronto" --state "$out/thief" --simulate 1h \
  --trace > "$out/thief2.out" 2> "$out/thief2.err" || fail "the hour after the thief"
last=$(grep '^stopped \|^done ' "$out/thief1.out" | tail -n 1 | awk '{ print $3 }')
restored=$(grep '^start ' "$out/thief2.out" | head -n 1 | awk '{ print $6 }')
[ "$restored" = "$last" ] || fail "+A was $last mWh at the thief's stop and $restored mWh after"
echo "thief: the nvm:kernel grant refused (exit 2); its writes refused; +A $last mWh kept"

# SIGTERM while a plugin hangs, before the watchdog's limit: still within 2 s.
sku_with hang 2
"$meterd" --sku "$out/hang.toml" --site "$toronto" --state "$out/hang-term" --plugins "$crasher" \
  --trace > "$out/hang-term.out" 2> "$out/hang-term.err" &
pid=$!
pids+=("$pid")
wait_for "$out/hang-term.out" "^tick " 20
sleep 1.5  # the second tick hangs
t0=$(now_ms)
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
took=$(($(now_ms) - t0))
[ "$took" -le 2000 ] || fail "SIGTERM during a hang took $took ms"
grep -q "plugin crasher hung the meter while it stopped" "$out/hang-term.err" ||
  fail "SIGTERM during a hang: the plugin that hung is not named"
echo "SIGTERM during a hang: the meter ended in $took ms (status $status)"
# SIGTERM the moment the meter starts again after a crash: still an orderly power-down.
"$meterd" --sku "$out/segfault.toml" --site "$site" --state "$out/term-at-restart" \
  --plugins "$crasher" --trace > "$out/term-at-restart.out" 2> "$out/term-at-restart.err" &
pid=$!
pids+=("$pid")
wait_for "$out/term-at-restart.err" "the meter starts again without it" 30
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "SIGTERM as the meter started again: exit status $status"
grep -q '^stopped ' "$out/term-at-restart.out" ||
  fail "SIGTERM as the meter started again: no orderly stop"
echo "SIGTERM as the meter starts again after a crash: an orderly stop (status 0)"

# A meter stopped by a signal (SIGSTOP, from a plugin or anyone) goes on at once, and loses
# nothing: the chip counted on.
"$meterd" --sku "$src/config/skus/tou.toml" --site "$site" --state "$out/stopped" \
  --trace > >(tee "$out/stopped.out" | stamp > "$out/stopped.stamped") 2> "$out/stopped.err" &
pid=$!
pids+=("$pid")
wait_for "$out/stopped.out" "^tick " 20
child=$(pgrep -P "$pid" -x meterd | head -n 1)  # not the output's tee, a child too
[ -n "$child" ] || fail "no meter process under the supervisor"
kill -STOP "$child"
wait_for "$out/stopped.err" "the meter was stopped .*; it goes on" 5
ticks=$(grep -c '^tick ' "$out/stopped.out")
end=$(($(now_ms) + 5000))
until [ "$(grep -c '^tick ' "$out/stopped.out")" -ge $((ticks + 2)) ]; do
  [ "$(now_ms)" -lt "$end" ] || fail "a stopped meter did not go on"
  sleep 0.05
done
kill -TERM "$pid"
wait "$pid" || fail "the meter that was stopped did not end in order"
read -r moved span_ms short < <(energy_over "$out/stopped.stamped")
[ "${short#-}" -le 250 ] || fail "a meter stopped and continued is $short mWh short"
echo "a stopped meter goes on at once ($moved mWh in $span_ms ms)"
echo "containment: 9 passed, 0 failed"
