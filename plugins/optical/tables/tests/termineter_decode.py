#!/usr/bin/env python3
"""Decodes the test meter's C12.19 tables with termineter's c1219 package (Debian package
termineter), as a meter shop's tool would: ST-0, ST-1, ST-3, ST-5 (C1219GeneralAccess),
ST-52 (format_ltime) and ST-71/ST-74 (C1219LogAccess). Exit 77 (skipped) without c1219.

usage: termineter_decode.py <c1219_dump executable>
"""
import subprocess
import sys

sys.path.append('/usr/lib/python3/dist-packages')
try:
    from c1218.errors import C1218ReadTableError
    from c1219.access.general import C1219GeneralAccess
    from c1219.access.log import C1219LogAccess
    from c1219.data import format_ltime
except ImportError as error:
    print('skipped: termineter\'s c1219 package is not installed ({})'.format(error))
    sys.exit(77)


class Tables:
    """The part of c1218.connection.Connection that the c1219 access classes use."""
    c1219_endian = '<'

    def __init__(self, dump):
        self.tables = {}
        for line in dump.splitlines():
            number, data = line.split(' ', 1) if ' ' in line else (line, '')
            self.tables[int(number)] = bytes.fromhex(data)

    def get_table_data(self, number):
        if number not in self.tables:
            raise C1218ReadTableError('table {} not used'.format(number), 2)
        return self.tables[number]


failures = []


def expect(what, got, wanted):
    if got != wanted:
        failures.append('{}: got {!r}, expected {!r}'.format(what, got, wanted))


def main():
    dump = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    conn = Tables(dump)

    general = C1219GeneralAccess(conn)
    expect('character format', general.char_format, 'ISO 8859/1 (Latin 1)')
    expect('nameplate type', general.nameplate_type, 'Electric')
    expect('standard version', general.std_version_no, 1)
    expect('id form', general.id_form, 0)
    expect('manufacturer', general.manufacturer, 'MTRP')
    expect('model', general.ed_model, 'SIM-TOU')
    expect('hardware', (general.hw_version_no, general.hw_revision_no), (1, 2))
    expect('firmware', (general.fw_version_no, general.fw_revision_no), (0, 7))
    expect('serial number', general.mfg_serial_no, '2026-0001')
    expect('mode', general.ed_mode, 1)
    expect('status', general.std_status, 0)
    expect('device id', general.device_id, 'TORONTO-0001')
    used = [0, 1, 3, 5, 7, 8, 21, 22, 23, 51, 52, 53, 55, 61, 62, 63, 64, 71, 72, 73, 74, 75, 76]
    # termineter's decoder reads bits 0..6 of each octet of a SET (not bit 7).
    expect('standard tables', general.std_tbls_used, [t for t in used if t % 8 != 7])
    expect('manufacturer tables', general.mfg_tbls_used, [0, 1, 2, 3, 4])
    expect('standard procedures', general.std_proc_used, [9, 10])
    # MP-7 (bit 7 of the octet) is implemented too; termineter's decoder does not read bit 7.
    expect('manufacturer procedures', general.mfg_proc_used, [0, 1, 2, 3, 4, 5, 6])

    expect('clock', format_ltime('<', conn.tables[0][1] & 7, conn.tables[52][:6]),
           'JUL 15 2026 14:30:5')

    log = C1219LogAccess(conn)
    expect('history entries', log.nbr_history_entries, 40)
    expect('event entries', log.nbr_event_entries, 200)  # the event log has its own capacity
    first = log.logs[0]
    expect('first record time', first.get('Time'), 'JUL 15 2026 18:0:0')
    expect('first record', (first['Event Number'], first['History Sequence Number'],
                            first['User ID'], first['Procedure Number'], first['Std vs Mfg']),
           (1, 1, 0, 1, False))
    expect('preset record', (log.logs[1]['Procedure Number'], log.logs[1]['User ID']), (11, 4))
    expect('sealed record', log.logs[2]['Procedure Number'], 56)
    expect('logon record', (log.logs[3]['Procedure Number'], log.logs[3]['Std vs Mfg']), (0, True))
    expect('argument length', len(first['Arguments']), 15)

    for f in failures:
        print('FAILED ' + f)
    print('{} checks failed'.format(len(failures)) if failures else 'all termineter decodes agree')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
