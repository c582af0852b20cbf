#!/usr/bin/env bash
# A meter whose store is damaged, deleted, emptied, rolled back, forged or replaced never goes
# backwards. The billing product (tou, demand, prepaid) meters a day, is stopped (orderly: the
# run ends; killed: SIGKILL in the middle of the next day, the journal in shared memory holds the
# ticks since), and then meter.db is
#   truncated by one byte, has a byte flipped in the middle, is emptied to 0 bytes, deleted,
#   has its records deleted, is an older copy of itself put back, has +A forged lower or higher
#   with a recomputed unkeyed checksum, or is another meter's store.
# At the restart: the registers are exactly the last ones seen (orderly) or the last or
# last-but-one tick (killed) -- never the forged ones; the finding is the right one (damaged,
# or a LEGAL FAULT saying what was found); the old file is kept as evidence; after an orderly
# stop the plugins' billing registers are exactly those seen before. Run again, the meter
# carries on upward from where the restart went on (not from what the damage froze), the legal
# fault is still reported (latched), the evidence is still there, and an orderly end leaves no
# journal behind.
#   damaged_store.sh MeterD SOURCE_DIR OUT_DIR orderly|killed
set -euo pipefail
meterd="$1"; src="$2"; out="$3"; mode="$4"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$src/tests/persistence/common.sh"
trap cleanup_meters EXIT
fresh_out
case "$mode" in orderly | killed) ;; *) fail "mode $mode: orderly or killed" ;; esac
RANDOM=$((20261202 + ${#mode}))

day=86400
# Another meter, two days in service: a store full of larger registers under another key.
meter "$out/other-meter" --until "$(at $((2 * day)))" > "$out/other-meter.out" 2>&1 ||
  fail "the other meter did not run: $(tail -3 "$out/other-meter.out")"

# expected KIND: what the restart must say on stderr (extended regex), and whether it is a
# legal fault that every later start must say again.
expected() {
  case "$1" in
    truncated | flipped) echo 'no|^meterd: the store is damaged \(' ;;
    emptied | deleted) echo 'yes|^meterd: LEGAL FAULT: store: .*missing' ;;
    records-deleted) echo 'yes|^meterd: LEGAL FAULT: store: .*holds no registers' ;;
    older-copy) echo 'yes|^meterd: LEGAL FAULT: store: .*older copy was put back' ;;
    forged-*) echo 'maybe|^meterd: (the store is damaged \(|LEGAL FAULT: store: )' ;;
    other-meter) echo "yes|^meterd: LEGAL FAULT: store: .*another meter's store" ;;
  esac
}

damage() {  # damage KIND DIR CASE
  local db="$2/meter.db" size off byte plus
  case "$1" in
    truncated) truncate -s -1 "$db" ;;
    flipped)
      size=$(stat -c %s "$db")
      off=$((size / 2))
      byte=$(od -An -tu1 -j "$off" -N 1 "$db" | tr -d ' ')
      # shellcheck disable=SC2059
      printf "$(printf '\\%03o' $((byte ^ 255)))" | dd of="$db" bs=1 seek="$off" conv=notrunc 2> /dev/null
      ;;
    emptied) : > "$db" ;;
    deleted) rm "$db" ;;
    records-deleted) sqlite3 "$db" "DELETE FROM record WHERE ns!='nvm'" ;;
    older-copy) cp "$3/older.db" "$db" ;;
    forged-lower) python3 "$src/tests/persistence/forge_record.py" "$db" 1000 ;;
    forged-higher)
      plus=$(($(echo "$last" | awk '{ print $2 }') + 1000000000))
      python3 "$src/tests/persistence/forge_record.py" "$db" "$plus"
      ;;
    other-meter) cp "$out/other-meter/meter.db" "$db" ;;
  esac
}

# The files a restart moved aside as evidence (a log moved with its store is part of it).
evidence_in() {
  local f
  for f in "$1"/meter.db.*-*; do
    [ -e "$f" ] || continue
    case "$f" in *-wal | *-shm | *-journal) ;; *) echo "${f##*/}" ;; esac
  done
}

one_case() {
  local kind="$1" c="$out/$1" dir="$out/$1/state" status k lines prev="" start objects
  local legal pattern evidence evidence_count d2 d3 before_objects="" run2_objects store
  mkdir -p "$c"
  IFS='|' read -r legal pattern < <(expected "$kind")
  # A day in service (for older-copy, its store is copied half-way).
  if [ "$kind" = older-copy ]; then
    meter "$dir" --until "$(at $((day / 2)))" > /dev/null 2> "$c/0.err" || fail "$kind: first half-day"
    cp "$dir/meter.db" "$c/older.db"
  fi
  meter "$dir" --until "$(at $day)" --trace > "$c/0.out" 2> "$c/0.err" || fail "$kind: first day"
  last=$(kregs "$(grep '^done ' "$c/0.out")")
  before_objects=$(grep '^objects ' "$c/0.out" | tail -n 1)
  if [ "$mode" = killed ]; then
    start_meter "$c/1.out" "$c/1.err" "$dir" --until "$(at $((2 * day)))" --trace
    wait_line "$c/1.out" '^tick ' 20 || fail "$kind: no tick within 20 s: $(cat "$c/1.err")"
    sleep "0.$(printf '%03d' $((RANDOM % 150)))"
    kill -KILL "$pid"
    wait_exit "$pid" 10
    grep -q '^done ' "$c/1.out" && fail "$kind: the run ended before it was killed"
    [ "$exit_status" -eq 137 ] || fail "$kind: exit status $exit_status, not killed"
    lines=$(complete_lines "$c/1.out" | grep -E '^(start|tick) ' | tail -n 2)
    last=$(kregs "$(echo "$lines" | tail -n 1)")
    if [ "$(echo "$lines" | tail -n 1 | cut -d' ' -f1)" = tick ] && [ "$(echo "$lines" | wc -l)" -eq 2 ]; then
      prev=$(kregs "$(echo "$lines" | head -n 1)")
    fi
    before_objects=""
  fi
  k=$(echo "$last" | cut -d' ' -f1)

  # A killed meter's store is meter.db and its write-ahead log: folded into one file first (as
  # the next open would), so that the damage is done to what the store holds, not to pages the
  # log would supersede.
  if [ -e "$dir/meter.db-wal" ]; then
    sqlite3 "$dir/meter.db" 'PRAGMA wal_checkpoint(TRUNCATE);' > /dev/null
    rm -f "$dir/meter.db-wal" "$dir/meter.db-shm"
  fi
  damage "$kind" "$dir" "$c"
  [ -e "$dir/meter.db" ] && cp "$dir/meter.db" "$c/damaged.db"

  # The restart after the damage: from the last values seen, the finding, the evidence.
  status=0
  meter "$dir" --until "$(at $((k + 14400)))" --trace > "$c/2.out" 2> "$c/2.err" || status=$?
  [ "$status" -eq 0 ] || { fail_later "$kind: the restart exited $status: $(grep -v 'plugin' "$c/2.err" | head -3)"; return; }
  start=$(grep -m 1 '^start ' "$c/2.out")
  [ "$(echo "$start" | cut -d' ' -f2)" = damaged ] ||
    fail_later "$kind: the restart says 'start $(echo "$start" | cut -d' ' -f2)', not damaged"
  if [ "$(kregs "$start")" != "$last" ] && [ "$(kregs "$start")" != "$prev" ]; then
    fail_later "$kind: restarted from [$(kregs "$start")]; last seen [$last]${prev:+, before it [$prev]}"
  fi
  grep -Eq -- "$pattern" "$c/2.err" ||
    fail_later "$kind: the restart does not report /$pattern/: $(grep -v 'plugin' "$c/2.err" | head -3)"
  objects=$(grep -m 1 '^objects ' "$c/2.out")
  if [ -n "$before_objects" ] && [ "$(billing "$objects")" != "$(billing "$before_objects")" ]; then
    fail_later "$kind: the plugins' billing registers changed across the restart:
$(diff <(billing "$before_objects") <(billing "$objects") | grep '^[<>]')"
  fi
  evidence=$(evidence_in "$dir")
  evidence_count=$(echo "$evidence" | grep -c . || true)
  if [ "$kind" = deleted ]; then
    [ "$evidence_count" -eq 0 ] || fail_later "$kind: evidence of a deleted file: $evidence"
  elif [ "$evidence_count" -ne 1 ]; then
    fail_later "$kind: $evidence_count evidence files ($evidence), expected 1"
  elif [ -e "$c/damaged.db" ] && ! cmp -s "$c/damaged.db" "$dir/$evidence"; then
    fail_later "$kind: the evidence $evidence is not the file that was found"
  fi
  d2=$(kregs "$(grep '^done ' "$c/2.out")")
  [ "$(echo "$d2" | cut -d' ' -f1)" -eq $((k + 14400)) ] || fail_later "$kind: the restart ended at $d2"
  run2_objects=$(grep '^objects ' "$c/2.out" | tail -n 1)

  # Run again: on from where the restart went on, the legal fault latched.
  status=0
  meter "$dir" --until "$(at $((k + 28800)))" --trace > "$c/3.out" 2> "$c/3.err" || status=$?
  [ "$status" -eq 0 ] || { fail_later "$kind: the second restart exited $status"; return; }
  start=$(grep -m 1 '^start ' "$c/3.out")
  [ "$(kregs "$start")" = "$d2" ] ||
    fail_later "$kind: the second restart went on from '$(kregs "$start")', not from '$d2'"
  [ "$(echo "$start" | cut -d' ' -f2)" = intact ] ||
    fail_later "$kind: the second restart found its store $(echo "$start" | cut -d' ' -f2)"
  objects=$(grep -m 1 '^objects ' "$c/3.out")
  [ "$(billing "$objects")" = "$(billing "$run2_objects")" ] ||
    fail_later "$kind: the plugins' billing registers changed across the second restart:
$(diff <(billing "$run2_objects") <(billing "$objects") | grep '^[<>]')"
  if [ "$legal" = yes ] || { [ "$legal" = maybe ] && grep -q 'LEGAL FAULT' "$c/2.err"; }; then
    grep -Eq -- "$pattern" "$c/3.err" ||
      fail_later "$kind: the legal fault is not latched: the second restart does not report it (stderr: $(grep -v 'plugin' "$c/3.err" | head -2))"
  fi
  [ "$(evidence_in "$dir")" = "$evidence" ] ||
    fail_later "$kind: the evidence changed: $(evidence_in "$dir" | xargs)"
  d3=$(kregs "$(grep '^done ' "$c/3.out")")
  not_below "$d3" "$d2" || fail_later "$kind: went backwards during the second restart: $d3 < $d2"
  # Active energy (import + export) moves every tick.
  [ "$(echo "$d3" | awk '{ print $2 + $3 }')" -gt "$(echo "$d2" | awk '{ print $2 + $3 }')" ] ||
    fail_later "$kind: the registers did not advance after the second restart ($d2 -> $d3)"

  # What the meter reports when read: the registers it carries on from, the latched fault.
  meter "$dir" --until "$no_ticks" > "$c/4.out" 2> "$c/4.err" || fail_later "$kind: reading the meter failed"
  [ "$(report_mwh "$c/4.out")" = "$(mwh "$d3")" ] ||
    fail_later "$kind: the report shows $(report_mwh "$c/4.out") mWh, the last run ended at $(mwh "$d3")"
  store=$(report_store "$c/4.out")
  if [ "$legal" = yes ]; then
    # "intact; legal fault latched: <finding>": the store is sound again, the fault stays.
    case "$store" in
      *[Ll]egal\ fault*) ;;
      *) fail_later "$kind: the report says '-- store: $store', not that a legal fault is latched" ;;
    esac
  fi
  [ -z "$(journals_of "$dir")" ] || fail_later "$kind: an orderly end left the journal $(journals_of "$dir")"
  note "$kind ($mode): restarted from $(mwh "$(kregs "$(grep -m 1 '^start ' "$c/2.out")")") mWh;" \
    "$(grep -E -m 1 -- "$pattern" "$c/2.err" | cut -c 9-150 || true); store now: $store"
}

for kind in truncated flipped emptied deleted records-deleted older-copy forged-lower forged-higher \
  other-meter; do
  one_case "$kind"
done
finish
echo "damaged store ($mode): every restart carried on from the last values seen"
