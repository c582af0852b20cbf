#!/usr/bin/env bash
# The bad-configuration corpus through meterd, as a user meets it: every case exits 2 and says
# its expected message on stderr, at file:line:column where the error has a place in a file.
# A case's `stage` file says where meterd finds the error:
#   config   (no file)  the configuration loader; `meterd --check`
#   plugins             a rule of a plugin's own, found when --check creates the plugins
#   start               only when the meter starts (a port another program holds); the run
#                       is `--simulate 10s`. `@BUSY_PORT@` in a case's files becomes a TCP port
#                       on 127.0.0.1 that this script holds open for the case.
#   meterd_corpus.sh MeterD SOURCE_DIR OUT_DIR
set -euo pipefail
meterd="$1"; src="$2"; out="$3"
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
holder=""
cleanup() { [ -z "$holder" ] || kill "$holder" 2>/dev/null || true; }
trap cleanup EXIT

# A listener on a free loopback port, held until the script ends, for the cases that need a
# port another program holds.
python3 - "$out/busy.port" > /dev/null 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(sys.argv[1] + ".new", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".new", sys.argv[1])
time.sleep(300)
PY
holder=$!
for _ in $(seq 1 100); do [ -s "$out/busy.port" ] && break; sleep 0.05; done
port=$(cat "$out/busy.port")

for dir in "$src"/tests/config/bad/*/; do
  name=$(basename "$dir")
  stage=config
  [ -f "$dir/stage" ] && stage=$(cat "$dir/stage")
  work="$out/$name"
  cp -r "$dir" "$work"
  if grep -rqs '@BUSY_PORT@' "$work"; then
    grep -rls '@BUSY_PORT@' "$work" | xargs sed -i "s/@BUSY_PORT@/$port/g"
  fi
  expect=$(head -n 1 "$work/expect")
  for file in sku.toml site.toml board.toml; do
    real=$file
    [ "$file" = board.toml ] && real=case-board.toml
    case "$expect" in "$file"*) expect="$work/$real${expect#"$file"}" ;; esac
  done
  args=(--sku "$work/sku.toml" --site "$work/site.toml" --boards "$work")
  case "$stage" in
    config) args+=(--plugins "$src/tests/config/plugins" --check) ;;
    plugins) args+=(--check) ;;
    start) args+=(--simulate 10s) ;;
    *) echo "FAIL $name: unknown stage '$stage'"; failed=$((failed + 1)); continue ;;
  esac
  status=0
  timeout 60 "$meterd" "${args[@]}" > "$work/out" 2> "$work/err" || status=$?
  problem=""
  if [ "$status" -ne 2 ]; then
    problem="exit status $status, expected 2"
  elif ! grep -qF -- "$expect" "$work/err"; then
    problem="expected: $expect"
  elif grep -Eq ':[0-9]+:[0-9]+: ' "$work/expect" && ! grep -Eq '^[^ ]+:[0-9]+:[0-9]+: ' "$work/err"; then
    problem="no file:line:column on stderr"
  fi
  if [ -n "$problem" ]; then
    echo "FAIL $name ($stage): $problem"
    sed 's/^/    /' "$work/err" | head -20
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
done
echo "meterd corpus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
