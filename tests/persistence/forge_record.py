#!/usr/bin/env python3
"""Forges the kernel's registers in a meter's store as someone without the board's key would.

Sets +A (the first of the 96-byte record's twelve little-endian int64: 6 x mWh, then 6 x
remainder nWh) to MWH and recomputes the record's checksum as an unkeyed BLAKE2b-128 over
ns, NUL, key, NUL, the type byte and the value: everything but the key the meter uses.

    forge_record.py METER_DB MWH
"""
import hashlib
import sqlite3
import struct
import sys


def main() -> None:
    db, mwh = sys.argv[1], int(sys.argv[2])
    con = sqlite3.connect(db)
    row = con.execute(
        "SELECT ns, key, type, value FROM record WHERE ns = 'kernel' AND key = 'registers'"
    ).fetchone()
    if row is None:
        sys.exit(f"{db}: no kernel/registers record")
    ns, key, kind, value = row
    registers = list(struct.unpack("<12q", value))
    registers[0] = mwh
    value = struct.pack("<12q", *registers)
    checksum = hashlib.blake2b(
        ns.encode() + b"\0" + key.encode() + b"\0" + bytes([kind]) + value, digest_size=16
    ).digest()
    con.execute("UPDATE record SET value = ?, sum = ? WHERE ns = ? AND key = ?",
                (value, checksum, ns, key))
    con.commit()
    con.close()


if __name__ == "__main__":
    main()
