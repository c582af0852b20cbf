#!/bin/sh
# Debian's termineter, a meter shop's C12.18 tool, against meterd's optical port over
# socket://127.0.0.1:PORT: identification, ST-0/ST-1 (the manufacturer fields are the board
# descriptor's), a logon with the right password reading the event log (ST-76, readers and up),
# and a wrong password refused (the event log then answers isc) while the meter keeps metering.
#   termineter.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
command -v termineter >/dev/null || { echo "termineter is not installed (scripts/setup installs it)"; exit 1; }
rm -rf "$out"; mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$src/config/sites/toronto-tou.toml" "$out/site.toml"
printf '\n[plugins.optical]\nport = %s\n' "$port" >> "$out/site.toml"

"$meterd" --sku "$src/config/skus/tou.toml" --site "$out/site.toml" --state "$out/state" \
  > "$out/meterd.out" 2> "$out/meterd.err" &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -lt 100 ] || { echo "meterd's optical port never opened"; cat "$out/meterd.err"; exit 1; }
  sleep 0.1
done
sleep 0.3  # the probe connection above has hung up; the port is free for the next one

# termineter, scripted by a resource file as a meter shop scripts it. termineter 1.0.4 runs
# the resource file ~/.termineter/console.rc (its -r option is ignored), so each session runs
# with its own HOME.
session() {  # session NAME PASSWORD MODULE-LINES...
  name="$1"; password="$2"; shift 2
  mkdir -p "$out/$name/.termineter"
  {
    echo "set SERIAL_CONNECTION socket://127.0.0.1:$port"
    echo "set USERNAME shop"
    echo "set USER_ID 2"
    echo "set PASSWORD_HEX false"
    echo "set PASSWORD $password"
    # The event log is larger than termineter's default 2 packets of 512 bytes can carry.
    echo "set C1218_PACKET_SIZE 1024"
    echo "set C1218_MAX_PACKETS 8"
    echo "connect"
    for line in "$@"; do echo "$line"; done
    echo "exit"
  } > "$out/$name/.termineter/console.rc"
  HOME="$out/$name" timeout 60 termineter -L WARNING > "$out/$name.out" 2>&1 < /dev/null || true
}

session right dev-reader "use get_identification" "run" "use get_info" "run" \
  "use read_table" "set TABLE_ID 76" "run"
grep -q "ANSI C12.18" "$out/right.out" || { echo "no identification"; cat "$out/right.out"; exit 1; }
grep -Eq "Manufacturer\.+MPR" "$out/right.out" || { echo "ST-1 manufacturer is not MPR"; cat "$out/right.out"; exit 1; }
grep -Eq "Model\.+MPR-2S" "$out/right.out" || { echo "ST-1 model is not MPR-2S"; cat "$out/right.out"; exit 1; }
grep -Eq "Serial Number\.+MPR2S-000001" "$out/right.out" || { echo "ST-1 serial is not the descriptor's"; cat "$out/right.out"; exit 1; }
if grep -q "login failed" "$out/right.out"; then echo "the right password was refused"; cat "$out/right.out"; exit 1; fi
grep -Eq "Read [1-9][0-9]* bytes" "$out/right.out" || { echo "ST-76 was not read with the reader's role"; cat "$out/right.out"; exit 1; }

session wrong not-the-password "use read_table" "set TABLE_ID 76" "run"
grep -q "meter login failed" "$out/wrong.out" || { echo "a wrong password was not refused"; cat "$out/wrong.out"; exit 1; }
grep -q "C1218ReadTableError.*isc" "$out/wrong.out" || { echo "ST-76 was readable without a logon"; cat "$out/wrong.out"; exit 1; }
if grep -Eq "Read [1-9][0-9]* bytes" "$out/wrong.out"; then echo "ST-76 was read with a wrong password"; exit 1; fi

# The meter kept metering and counted the refused logon.
stop
trap - EXIT
grep -Eq '^  0-0:128\.40\.4 +[1-9]' "$out/meterd.out" || { echo "no session counted"; cat "$out/meterd.out"; exit 1; }
grep -Eq '^  0-0:128\.40\.5 +1 ' "$out/meterd.out" || { echo "the refused logon was not counted"; grep 128.40 "$out/meterd.out"; exit 1; }
echo "termineter against meterd on 127.0.0.1:$port: identification, ST-1, right and wrong password: ok"
