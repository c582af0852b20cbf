#!/usr/bin/env bash
# A store that cannot be written, even by root, costs no energy. The billing product (tou,
# demand, prepaid) meters a day; then meter.db is made immutable (chattr +i; where the
# filesystem has no such attribute, a read-only bind mount of the file). The meter must then
#  - meter on from the stored registers (exactly the last ones seen, never from 0) with its
#    plugins' billing registers as they were, and say on stderr or in its report that its store
#    cannot be written (the report is never "intact");
#  - once meter.db is writable again, carry on from at least what the unwritable runs ended with
#    (exactly, after their orderly end), with the TOU rates and the prepaid account adding up.
# Skipped (exit 77) where neither way of making the file unwritable for root works here.
#   read_only_store.sh MeterD SOURCE_DIR OUT_DIR
set -euo pipefail
meterd="$1"; src="$2"; out="$3"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$src/tests/persistence/common.sh"
how=""
dir="$out/state"
writable_again() {
  case "$how" in
    chattr) chattr -i "$dir/meter.db" 2> /dev/null || true ;;
    bind) umount "$dir/meter.db" 2> /dev/null || umount -l "$dir/meter.db" 2> /dev/null || true ;;
  esac
  how=""
}
cleanup() {
  cleanup_meters
  writable_again
}
trap cleanup EXIT
fresh_out

meter "$dir" --until "$(at 86400)" --trace > "$out/0.out" 2> "$out/0.err" || fail "the first day"
last=$(kregs "$(grep '^done ' "$out/0.out")")
before_objects=$(grep '^objects ' "$out/0.out" | tail -n 1)
k=$(echo "$last" | cut -d' ' -f1)

# Unwritable for root too: proven by root failing to append to it.
if chattr +i "$dir/meter.db" 2> /dev/null; then
  how=chattr
elif mount --bind "$dir/meter.db" "$dir/meter.db" 2> /dev/null; then
  how=bind
  mount -o remount,ro,bind "$dir/meter.db" 2> /dev/null || { writable_again; how=""; }
fi
if [ -z "$how" ] || (echo x >> "$dir/meter.db") 2> /dev/null; then
  writable_again
  echo "SKIP: meter.db cannot be made unwritable for root here (no chattr +i, no bind mount)"
  exit 77
fi
note "meter.db made unwritable with: $how"

# Two runs on the unwritable store: each on from where the last ended.
expected="$last"
expected_objects="$before_objects"
for run in 1 2; do
  status=0
  meter "$dir" --until "$(at $((k + run * 14400)))" --trace > "$out/$run.out" 2> "$out/$run.err" || status=$?
  start=$(grep -m 1 '^start ' "$out/$run.out" || true)
  if [ "$status" -ne 0 ] || [ -z "$start" ]; then
    fail_later "run $run on the unwritable store: exit $status, no metering: $(grep -v plugin "$out/$run.err" | head -2)"
    continue
  fi
  [ "$(kregs "$start")" = "$expected" ] ||
    fail_later "run $run on the unwritable store started from '$(kregs "$start")', not '$expected'"
  objects=$(grep -m 1 '^objects ' "$out/$run.out")
  [ "$(billing "$objects")" = "$(billing "$expected_objects")" ] ||
    fail_later "run $run on the unwritable store: the plugins' billing registers changed:
$(diff <(billing "$expected_objects") <(billing "$objects") | grep '^[<>]')"
  grep -Eqi 'store.*(read-only|cannot be written|could not be written|not permitted|denied)' "$out/$run.err" ||
    fail_later "run $run: nothing on stderr says the store cannot be written: $(grep -v plugin "$out/$run.err" | head -2)"
  done_line=$(grep '^done ' "$out/$run.out" || true)
  [ -n "$done_line" ] || { fail_later "run $run did not end in order"; continue; }
  not_below "$(kregs "$done_line")" "$expected" || fail_later "run $run went backwards"
  expected=$(kregs "$done_line")
  expected_objects=$(grep '^objects ' "$out/$run.out" | tail -n 1)
done
status=0
meter "$dir" --until "$no_ticks" > "$out/report.out" 2> "$out/report.err" || status=$?
store=$(report_store "$out/report.out")
note "read on the unwritable store: exit $status, '-- store: ${store:-(no report)}'"
case "$store" in
  "" | intact | fresh) fail_later "read on the unwritable store: exit $status, the report says '${store:-nothing}'" ;;
esac
[ "$status" -ne 0 ] || [ "$(report_mwh "$out/report.out")" = "$(mwh "$expected")" ] ||
  fail_later "read on the unwritable store: $(report_mwh "$out/report.out") mWh, expected $(mwh "$expected")"

# Writable again: on from at least where the unwritable runs ended.
writable_again
status=0
meter "$dir" --until "$(at $((k + 3 * 14400)))" --trace > "$out/3.out" 2> "$out/3.err" || status=$?
[ "$status" -eq 0 ] || fail "writable again, the meter exited $status: $(head -3 "$out/3.err")"
start=$(grep -m 1 '^start ' "$out/3.out")
[ "$(kregs "$start")" = "$expected" ] ||
  fail_later "writable again, the meter started from '$(kregs "$start")', not '$expected'"
problem=$(adds_up "$(kregs "$(grep '^done ' "$out/3.out")")" "$(grep '^objects ' "$out/3.out" | tail -n 1)")
[ -z "$problem" ] || fail_later "writable again, after the run: $problem"
[ -z "$(journals_of "$dir")" ] || fail_later "the orderly end left the journal $(journals_of "$dir")"
note "writable again: started $(echo "$start" | cut -d' ' -f2) from $(mwh "$(kregs "$start")") mWh"
finish
echo "read-only store: metered on from the stored registers, nothing lost"
