#!/usr/bin/python3
# Debian's termineter (python3 c1218 package) against our C12.18 server: the same identify,
# negotiate, logon, security, reads, writes and terminate a meter shop's termineter session
# sends, over TCP on 127.0.0.1 (pyserial's socket:// link). Usage: termineter_interop.py METER
import subprocess
import sys

try:
    from c1218.connection import Connection
    from c1218.errors import C1218ReadTableError, C1218WriteTableError
except ImportError as error:
    sys.exit(f"termineter's c1218 package is missing (apt-get install termineter): {error}")


def main():
    meter = subprocess.Popen([sys.argv[1]], stdout=subprocess.PIPE, text=True)
    try:
        port = int(meter.stdout.readline())
        conn = Connection(f"socket://127.0.0.1:{port}", c1218_settings={"pktsize": 512, "nbrpkts": 2},
                          enable_cache=False)
        conn.serial_h.timeout = 5
        assert conn.start(), "identify refused"
        assert not conn.login(username="0000", userid=2, password="wrong"), "a wrong password logged on"
        conn.stop()
        assert conn.start(), "identify refused after terminate"
        assert conn.login(username="0000", userid=2, password="secret"), "logon refused"
        table1 = conn.get_table_data(1)
        assert table1 == b"METR\x01\x02\x03\x04", table1
        assert conn.get_table_data(1, octetcount=3, offset=2) == b"TR\x01"
        conn.set_table_data(7, b"termineter")
        conn.set_table_data(7, b"T", offset=1)
        assert conn.get_table_data(7) == b"tTrmineter"
        try:
            conn.get_table_data(99)
            raise AssertionError("table 99 read")
        except C1218ReadTableError as error:
            assert error.code == 4, error.code  # onp
        try:
            conn.set_table_data(1, b"x")
            raise AssertionError("table 1 written")
        except C1218WriteTableError as error:
            assert error.code == 5, error.code  # iar
        conn.close()
    finally:
        out, _ = meter.communicate(timeout=40)
    print(out.strip())
    if meter.returncode != 0:
        sys.exit(f"the meter reports a problem (exit {meter.returncode})")
    print("termineter session: ok")


main()
