#!/usr/bin/env bash
# A full disk costs no energy, and a store that could not be written is never reported as
# simply intact. The billing product (tou, demand, prepaid) keeps its state folder on a small
# filesystem of its own (an 8 MiB tmpfs, or a loop-mounted ext4 image) and flushes every second:
#  1. while it meters, the disk is filled (dd, again and again for 2.5 s, as a runaway log
#     would) and the meter is stopped: SIGTERM (a power failure) or, in the other variant,
#     SIGKILL;
#  2. with the disk still full, the meter is powered up and read: the registers are the last
#     ones seen (exactly, after SIGTERM; the last or last-but-one tick after SIGKILL); if the
#     store needed the space reserved at commissioning (meter.reserve given back), the report
#     says what happened instead of "intact";
#  3. with the disk still full and no reserve left, the meter meters an hour: it must run, and
#     report the write that failed;
#  4. the space is freed and the meter meters another hour: it starts exactly from what the
#     hour on the full disk ended with, the TOU rates and the prepaid account add up to +A and
#     -A, and an orderly end leaves no journal behind.
# Skipped (exit 77) where no filesystem can be mounted (not root, no tmpfs or loop device).
#   disk_full.sh MeterD SOURCE_DIR OUT_DIR
set -euo pipefail
meterd="$1"; src="$2"; out="$3"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$src/tests/persistence/common.sh"
mounts=()
cleanup() {
  cleanup_meters
  local m
  for m in "${mounts[@]}"; do umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null || true; done
}
trap cleanup EXIT
fresh_out

# small_disk DIR: an 8 MiB filesystem mounted on DIR.
small_disk() {
  mkdir -p "$1"
  if mount -t tmpfs -o size=8m,mode=0755 tmpfs "$1" 2> /dev/null; then
    mounts+=("$1")
    return 0
  fi
  if command -v mkfs.ext4 > /dev/null && truncate -s 16M "$1.img" &&
    mkfs.ext4 -q -F "$1.img" 2> /dev/null && mount -o loop "$1.img" "$1" 2> /dev/null; then
    mounts+=("$1")
    return 0
  fi
  return 1
}
# fill DISK: dd until the filesystem has no block left (each call a new file, so what the meter
# gives back is taken again).
fill() {
  local n=0
  while [ -e "$1/fill-$n" ]; do n=$((n + 1)); done
  dd if=/dev/zero of="$1/fill-$n" bs=4k 2> /dev/null || true
}
free_blocks() { df -P "$1" | awk 'NR == 2 { print $4 }'; }
# at_least A B: every register of A (6 mWh values) at least B's.
at_least() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    for (i = 1; i <= 6; ++i) if (x[i] < y[i]) exit 1 }'
}

variant() {
  local sig="$1" c="$out/$1" disk="$out/$1/disk" dir="$out/$1/disk/state" lines last prev=""
  local k store reserve_used=no b_mwh b_ks c_mwh c_ks status start problem
  mkdir -p "$c"
  small_disk "$disk" || { echo "SKIP: cannot mount a small filesystem (tmpfs or loop ext4) here"; exit 77; }
  mkdir "$dir"
  meter "$dir" --until "$(at 3600)" --trace > "$c/0.out" 2> "$c/0.err" || fail "$sig: the first hour"
  [ -e "$dir/meter.reserve" ] || fail "$sig: commissioning left no meter.reserve: $(cd "$dir" && echo *)"

  # 1. The disk fills while the meter meters; then the power fails, or the process is killed.
  start_meter "$c/1.out" "$c/1.err" "$dir" --until "$(at $((20 * 86400)))" --trace --flush-period 1s
  wait_line "$c/1.out" '^tick ' 20 || fail "$sig: no tick within 20 s: $(head -3 "$c/1.err")"
  for _ in $(seq 1 10); do
    fill "$disk"
    sleep 0.25
  done
  [ "$(free_blocks "$disk")" -eq 0 ] || fail "$sig: the disk is not full: $(free_blocks "$disk") KiB free"
  kill "-$sig" "$pid"
  wait_exit "$pid" 15
  grep -q '^done ' "$c/1.out" && fail "$sig: the run ended before it was stopped"
  if [ "$sig" = TERM ]; then
    [ "$exit_status" -eq 0 ] || fail_later "TERM: exit status $exit_status after SIGTERM on a full disk"
    last=$(kregs "$(grep '^stopped ' "$c/1.out" || true)")
    [ -n "$last" ] || fail "TERM: no stopped line: $(tail -n 2 "$c/1.out" | cut -c 1-80)"
  else
    [ "$exit_status" -eq 137 ] || fail "KILL: exit status $exit_status"
    lines=$(complete_lines "$c/1.out" | grep -E '^(start|tick) ' | tail -n 2)
    last=$(kregs "$(echo "$lines" | tail -n 1)")
    [ "$(echo "$lines" | wc -l)" -eq 2 ] && prev=$(kregs "$(echo "$lines" | head -n 1)")
  fi
  k=$(echo "$last" | cut -d' ' -f1)
  [ -e "$dir/meter.reserve" ] || reserve_used=while-metering
  note "$sig: stopped at tick $k on a full disk; reserve given back while metering: $([ "$reserve_used" = no ] && echo no || echo yes)"

  # 2. Powered up and read on the still full disk.
  fill "$disk"
  status=0
  meter "$dir" --until "$no_ticks" > "$c/2.out" 2> "$c/2.err" || status=$?
  [ -e "$dir/meter.reserve" ] || [ "$reserve_used" != no ] || reserve_used=at-power-up
  store=$(report_store "$c/2.out")
  b_mwh=$(report_mwh "$c/2.out")
  # The ticks the power-up may have gone on from (the report has registers, not ticks).
  b_ks=""
  [ "$b_mwh" = "$(mwh "$last")" ] && b_ks="$k"
  [ -n "$prev" ] && [ "$b_mwh" = "$(mwh "$prev")" ] && b_ks="$b_ks $(echo "$prev" | cut -d' ' -f1)"
  if [ "$status" -ne 0 ]; then
    fail_later "$sig: powering up on the full disk exited $status: $(grep -v plugin "$c/2.err" | head -2)"
    b_mwh=$(mwh "$last")
    b_ks="$k${prev:+ $(echo "$prev" | cut -d' ' -f1)}"
  elif [ -z "$b_ks" ]; then
    fail_later "$sig: powered up on the full disk with $b_mwh mWh; last seen $(mwh "$last")${prev:+, before it $(mwh "$prev")}"
    b_ks="$k"
  fi
  note "$sig: powered up on the full disk: '-- store: $store'; reserve used: $reserve_used"
  if [ "$reserve_used" != no ]; then
    case "$store" in
      intact | fresh)
        grep -qi 'store\|disk\|full\|reserve' "$c/2.err" ||
          fail_later "$sig: the store needed its reserve ($reserve_used), yet the report says only '$store'" ;;
    esac
  fi

  # 3. An hour on the full disk without a reserve: the meter meters on and says what failed.
  fill "$disk"
  [ ! -e "$dir/meter.reserve" ] || note "$sig: the reserve is still there before the hour on the full disk"
  status=0
  meter "$dir" --until "$(at $((k + 3600)))" --flush-period 1s > "$c/3.out" 2> "$c/3.err" || status=$?
  store=$(report_store "$c/3.out")
  c_mwh=$(report_mwh "$c/3.out")
  c_ks=$((k + 3600))
  if [ "$status" -ne 0 ]; then
    fail_later "$sig: on a full disk without a reserve the meter does not meter: exit $status: $(grep -v plugin "$c/3.err" | head -2)"
    c_mwh="$b_mwh"
    c_ks="$b_ks"
  else
    at_least "$c_mwh" "$b_mwh" || fail_later "$sig: the hour on the full disk went backwards: $b_mwh -> $c_mwh"
    case "$store" in
      *fail* | *full* | *could\ not*) ;;
      *) fail_later "$sig: an hour on a full disk, and the report says '-- store: $store'" ;;
    esac
  fi
  note "$sig: an hour on the full disk: exit $status, '-- store: ${store:-(no report)}'"

  # 4. The space freed: on from exactly where the hour ended, everything adding up.
  rm -f "$disk"/fill-*
  status=0
  meter "$dir" --until "$(at $((k + 7200)))" --trace > "$c/4.out" 2> "$c/4.err" || status=$?
  [ "$status" -eq 0 ] || fail "$sig: with the space freed the meter exited $status: $(head -3 "$c/4.err")"
  start=$(grep -m 1 '^start ' "$c/4.out")
  [ "$(mwh "$(kregs "$start")")" = "$c_mwh" ] ||
    fail_later "$sig: with the space freed it started from $(mwh "$(kregs "$start")") mWh, not $c_mwh"
  case " $c_ks " in
    *" $(kregs "$start" | cut -d' ' -f1) "*) ;;
    *) fail_later "$sig: with the space freed it started at tick $(kregs "$start" | cut -d' ' -f1), not ${c_ks// / or }" ;;
  esac
  problem=$(adds_up "$(kregs "$start")" "$(grep -m 1 '^objects ' "$c/4.out")")
  [ -z "$problem" ] || fail_later "$sig: with the space freed, at the start: $problem"
  problem=$(adds_up "$(kregs "$(grep '^done ' "$c/4.out")")" "$(grep '^objects ' "$c/4.out" | tail -n 1)")
  [ -z "$problem" ] || fail_later "$sig: with the space freed, after an hour: $problem"
  meter "$dir" --until "$no_ticks" > "$c/5.out" 2> "$c/5.err" || fail_later "$sig: reading the meter failed"
  [ "$(report_mwh "$c/5.out")" = "$(mwh "$(kregs "$(grep '^done ' "$c/4.out")")")" ] ||
    fail_later "$sig: read after the hour: $(report_mwh "$c/5.out") mWh"
  [ -z "$(journals_of "$dir")" ] || fail_later "$sig: the orderly end left the journal $(journals_of "$dir")"
  note "$sig: space freed: '-- store: $(report_store "$c/5.out")'; reserve made again: $([ -e "$dir/meter.reserve" ] && echo yes || echo no)"
}

variant TERM
variant KILL
finish
echo "full disk: no energy lost, the failed writes reported"
