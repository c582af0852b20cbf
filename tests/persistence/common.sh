# shellcheck shell=bash disable=SC2034,SC2154  # sourced: the script sets meterd, src, out
# What the persistence scripts share (bash, sourced): running meterd on the billing product,
# reading its trace and its report, comparing registers, and leaving nothing behind (the
# processes a script started, the shared-memory journals of the state folders it made).
# The sourcing script sets meterd, src and out first.
#
# Trace lines (meterd --trace):
#   start <fresh|intact|damaged> <k> <orderly> <outage_ms> <12 registers>
#   tick|stopped|done <k> <12 registers>
#   objects <k> <obis>=<int> ...
# k counts ticks (seconds) from the site's simulation start; the 12 registers are 6 x mWh
# (+A, -A, reactive Q1..Q4) and then their 6 remainders in nWh.

sku="$src/tests/persistence/billing-sku.toml"
site="$src/tests/persistence/billing-site.toml"
site_start_s=1780286400  # the billing site's [simulation] start, 2026-06-01T04:00:00Z
# --until at or before the meter's own time runs no tick: the meter powers up from its store,
# says what it found, and reports the registers it restored.
no_ticks=2026-06-01T04:00:00Z

pids=()
state_dirs=()
failures=0

note() { echo "$*"; }
fail() {
  echo "FAIL: $*"
  exit 1
}
# fail_later: a finding that does not stop the script, so that one run reports every one.
fail_later() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
finish() {
  [ "$failures" -eq 0 ] || { echo "$failures finding(s)"; exit 1; }
}

# The UTC time of tick k, for --until.
at() { date -u -d "@$((site_start_s + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# meter DIR ARGS...: meterd on the billing product with its store in DIR, in this process.
meter() {
  local dir="$1"
  shift
  remember_state "$dir"
  "$meterd" --sku "$sku" --site "$site" --no-supervisor --state "$dir" "$@"
}

# start_meter OUT ERR DIR ARGS...: the same in the background; its pid in $pid.
start_meter() {
  local o="$1" e="$2" dir="$3"
  shift 3
  remember_state "$dir"
  "$meterd" --sku "$sku" --site "$site" --no-supervisor --state "$dir" "$@" > "$o" 2> "$e" &
  pid=$!
  pids+=("$pid")
}

now_ms() { date +%s%3N; }

# wait_line FILE PATTERN SECONDS: until FILE has a line matching PATTERN (extended regex).
wait_line() {
  local end=$(($(now_ms) + $3 * 1000))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    [ "$(now_ms)" -lt "$end" ] || return 1
    sleep 0.02
  done
}

# wait_exit PID SECONDS: its exit status in $exit_status (128 + signal when killed); after
# SECONDS it is killed and the status is 255, so that a meter that does not stop fails the test
# instead of hanging it.
wait_exit() {
  local p="$1" end=$(($(now_ms) + $2 * 1000))
  exit_status=0
  while kill -0 "$p" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$end" ]; then
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
      exit_status=255
      return
    fi
    sleep 0.02
  done
  wait "$p" 2>/dev/null || exit_status=$?
}

# The complete lines of a trace (a killed process may leave half a line at the end).
complete_lines() {
  if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
    sed '$d' "$1"
  else
    cat "$1"
  fi
}

# kregs LINE: "k r1 ... r12" of a start, tick, stopped or done line.
kregs() {
  echo "$1" | awk '$1 == "start" { $1 = $2 = $4 = $5 = ""; print; next }
                   { $1 = ""; print }' | xargs
}
# mwh KREGS: its 6 mWh registers.
mwh() { echo "$1" | awk '{ print $2, $3, $4, $5, $6, $7 }'; }

# not_below A B: every register of A (kregs) at least B's, to the nWh.
not_below() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    for (i = 2; i <= 7; ++i) {
      if (x[i] * 1000000 + x[i + 6] < y[i] * 1000000 + y[i + 6]) exit 1
    }
  }'
}

# report_mwh FILE: the 6 kernel registers of meterd's report, in mWh (the report's Wh and varh
# have three decimals).
report_mwh() {
  local r out=""
  for r in 1 2 5 6 7 8; do
    out="$out $(sed -n "s/^  1-0:$r\.8\.0 \{1,\}\(-\{0,1\}[0-9]*\)\.\([0-9]\{3\}\) .*/\1\2/p" "$1" |
      sed 's/^\(-\{0,1\}\)0*\([0-9]\)/\1\2/')"
  done
  echo "$out" | xargs
}
# report_store FILE: what the report's "-- store:" line says.
report_store() { sed -n 's/^-- store: //p' "$1"; }

# obj LINE OBIS: an integer object of an objects line.
obj() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# billing LINE: the billing objects of an objects line, one "obis=value" each: the TOU rate
# registers, the prepaid account (credit, debited, energy and money per source) and demand
# (maxima, cumulative, continuously cumulative, resets).
billing() {
  echo "$1" | tr ' ' '\n' | grep -E '^(1-0:[12]\.8\.[1-4]|0-0:128\.30\.(0|1|14)|0-0:128\.3[24]\.1|1-0:1\.[236]\.[03]|1-0:0\.1\.0)='
}

# adds_up KREGS OBJECTS_LINE: empty when the TOU rates sum to +A and -A and the prepaid account
# agrees with +A (energy billed, money debited at 13.2 c/kWh, credit); else what does not.
adds_up() {
  awk -v regs="$1" -v objects="$2" 'BEGIN {
    split(regs, r, " "); a = r[2]; e = r[3]
    n = split(objects, w, " ")
    for (i = 3; i <= n; ++i) { split(w[i], kv, "="); o[kv[1]] = kv[2] }
    imp = o["1-0:1.8.1"] + o["1-0:1.8.2"] + o["1-0:1.8.3"] + o["1-0:1.8.4"]
    ex = o["1-0:2.8.1"] + o["1-0:2.8.2"] + o["1-0:2.8.3"] + o["1-0:2.8.4"]
    if (imp != a) printf "TOU import rates sum to %d mWh, +A is %d mWh\n", imp, a
    if (ex != e) printf "TOU export rates sum to %d mWh, -A is %d mWh\n", ex, e
    if (o["0-0:128.32.1"] != a) printf "prepaid billed %d mWh on grid, +A is %d mWh\n", o["0-0:128.32.1"], a
    due = int(a * 13200 / 1000000)
    if (o["0-0:128.30.14"] != due) printf "prepaid debited %d, +A at the price is %d\n", o["0-0:128.30.14"], due
    if (o["0-0:128.30.0"] != 100000000 - o["0-0:128.30.14"])
      printf "prepaid credit %d is not the commissioning credit less %d\n", o["0-0:128.30.0"], o["0-0:128.30.14"]
  }'
}

remember_state() {
  local d
  for d in "${state_dirs[@]}"; do [ "$d" = "$1" ] && return; done
  state_dirs+=("$1")
}

# The shared-memory journal of a state folder: /dev/shm/meterd-<id>-<st_dev hex>-<st_ino hex>.
journals_of() {
  [ -d "$1" ] || return 0
  local dev ino
  read -r dev ino < <(stat -c '%d %i' "$1")
  local suffix j
  suffix=$(printf -- '-%x-%x' "$dev" "$ino")
  for j in /dev/shm/meterd-*"$suffix"; do
    [ -e "$j" ] && [[ "${j#/dev/shm/meterd-}" =~ ^[0-9a-f]+$suffix$ ]] && echo "${j#/dev/shm/}"
  done
  return 0
}
forget_journals() {
  local d j
  for d in "$@"; do
    for j in $(journals_of "$d"); do rm -f "/dev/shm/$j"; done
  done
}

# What a script started and made, gone whatever way it ends.
cleanup_meters() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  forget_journals "${state_dirs[@]}"
}

# fresh_out: an empty $out, without the journals an earlier run's state folders left.
fresh_out() {
  local d m
  if [ -d "$out" ]; then
    while IFS= read -r m; do
      umount "$m" || umount -l "$m" || true
    done < <(awk -v o="$out/" 'index($2, o) == 1 { print $2 }' /proc/mounts | sort -r)
    chattr -R -i "$out" 2>/dev/null || true
    while IFS= read -r d; do forget_journals "$d"; done < <(find "$out" -mindepth 1 -type d)
  fi
  rm -rf "$out"
  mkdir -p "$out"
}
