#!/usr/bin/env bash
# A new meter's first start is atomic. 100 times, a brand-new meter of the billing product (tou,
# demand, prepaid) is killed with SIGKILL 2-40 ms into its first start, each in a new empty
# state folder -- before, during and after its commissioning (board key, board copy, store,
# reserve). The next normal start of that folder then always succeeds: `start fresh` or
# `start intact`, never damaged, no register below 0, no error or legal fault on stderr, ten
# minutes metered with the TOU rates and the prepaid account adding up to +A and -A, and no
# journal left after its orderly end.
#   first_start_atomic.sh MeterD SOURCE_DIR OUT_DIR
set -euo pipefail
meterd="$1"; src="$2"; out="$3"
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$src/tests/persistence/common.sh"
trap cleanup_meters EXIT
fresh_out
seed=20261202
RANDOM=$seed
runs=100
declare -A left=()

for i in $(seq 1 "$runs"); do
  dir="$out/meter-$i"
  mkdir -p "$dir"
  ms=$((2 + RANDOM % 39))
  start_meter "$out/killed.out" "$out/killed.err" "$dir" --until "$(at 3600)" --trace
  sleep "$(printf '0.%03d' "$ms")"
  kill -KILL "$pid" 2> /dev/null || true
  wait_exit "$pid" 10
  # What the kill left, for the summary: the folder's files, in order.
  what=$(cd "$dir" && ls -A | { grep -v '^meterd.pid$' || true; } | xargs)
  left["${what:-nothing}"]=$((${left["${what:-nothing}"]:-0} + 1))

  status=0
  meter "$dir" --until "$(at 600)" --trace > "$out/normal.out" 2> "$out/normal.err" || status=$?
  why="run $i, killed after $ms ms leaving '${what:-nothing}' (seed $seed)"
  [ "$status" -eq 0 ] || fail "$why: the next start exited $status: $(head -3 "$out/normal.err")"
  start=$(head -n 1 "$out/normal.out")
  case "$start" in
    "start fresh "* | "start intact "*) ;;
    *) fail "$why: the next start printed '$(echo "$start" | cut -c 1-80)'" ;;
  esac
  for v in $(kregs "$start"); do
    [ "$v" -ge 0 ] || fail "$why: a register below 0 at the start: $start"
  done
  if grep -v '^meterd: plugin [a-z_]*: ' "$out/normal.err" | grep -q . ||
    grep -Eiq 'damaged|legal fault|error|lost|refused|cannot' "$out/normal.err"; then
    fail "$why: the next start said: $(head -5 "$out/normal.err")"
  fi
  done_line=$(grep '^done ' "$out/normal.out" || true)
  [ "$(kregs "$done_line" | cut -d' ' -f1)" = 600 ] || fail "$why: the ten minutes did not end: '$done_line'"
  problem=$(adds_up "$(kregs "$done_line")" "$(grep '^objects ' "$out/normal.out" | tail -n 1)")
  [ -z "$problem" ] || fail "$why: at the end of the ten minutes: $problem"
  [ -z "$(journals_of "$dir")" ] || fail "$why: the orderly end left the journal $(journals_of "$dir")"
  forget_journals "$dir"
  rm -rf "$dir"
done

echo "$runs first starts killed at 2-40 ms; what the kills left:"
for what in "${!left[@]}"; do printf '  %3d  %s\n' "${left[$what]}" "$what"; done | sort -rn
# The kills must have hit the commissioning itself, not only the time before or after it.
[ "${#left[@]}" -ge 3 ] || fail "every kill left the same thing: the window missed the commissioning"
echo "every next start succeeded: fresh or intact, nothing below 0, no error"
