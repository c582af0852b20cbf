#!/usr/bin/python3
"""Malformed C12.18 frames against a running meter.

meterd runs in real time (the tou SKU, the Toronto site with the optical port on a free TCP port
of 127.0.0.1). Over that port this test sends, each on its own connection, broken frames and
requests a meter shop's tool should never send, and checks each gets its refusal: <nak> for a
packet the link cannot take (bad CRC, a length beyond the packet size, a packet left unfinished
past the inter-character timeout), the PSEM response code for a request the meter will not carry
out (sns, isss, iar, isc, err, onp), or silence for a multi-packet request longer than the port
reassembles. Afterwards a well-formed session still works, the import register has gone on
advancing, and the report meterd prints on SIGTERM has counted every refused packet
(0-0:128.40.2) and request (0-0:128.40.3).

    malformed_frames.py MeterD SOURCE_DIR OUT_DIR
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

from c1218.utilities import data_checksum, packet_checksum

STP, ACK, NAK = 0xEE, 0x06, 0x15
OK, ERR, SNS, ISC, ONP, IAR, ISSS = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0A
CODE_NAMES = {OK: "ok", ERR: "err", SNS: "sns", ISC: "isc", ONP: "onp", IAR: "iar", ISSS: "isss"}
READER_PASSWORD = b"dev-reader"
IO_TIMEOUT_S = 5.0


class Failure(Exception):
    pass


def packet(data, ctrl=0x00, seq=0, identity=0x00, length=None):
    """A C12.18 packet: <stp> <identity> <ctrl> <seq-nbr> <length> <data> <crc>."""
    size = len(data) if length is None else length
    body = bytes([STP, identity, ctrl, seq]) + struct.pack(">H", size) + data
    return body + packet_checksum(body)


def table_data(data, checksum=None):
    return struct.pack(">H", len(data)) + data + (data_checksum(data) if checksum is None
                                                   else bytes([checksum]))


IDENTIFY = b"\x20"
TERMINATE = b"\x21"
LOGOFF = b"\x52"


def logon(user=b"shop"):
    return b"\x50" + struct.pack(">H", 2) + user.ljust(10, b" ")


def security(password):
    return b"\x51" + password.ljust(20, b"\x00")


def negotiate(packet_size, packets):
    return b"\x60" + struct.pack(">HB", packet_size, packets)


def read(table):
    return b"\x30" + struct.pack(">H", table)


class Probe:
    """One connection to the optical port, as a meter shop's probe."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), IO_TIMEOUT_S)
        self.sock.settimeout(IO_TIMEOUT_S)
        self.toggle = False

    def close(self):
        self.sock.close()

    def send(self, raw):
        self.sock.sendall(raw)

    def byte(self):
        b = self.sock.recv(1)
        if not b:
            raise Failure("the meter closed the connection")
        return b[0]

    def exactly(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise Failure("the meter closed the connection")
            out += chunk
        return out

    def expect_link(self, expected, what):
        got = self.byte()
        if got != expected:
            raise Failure(f"{what}: expected 0x{expected:02X}, got 0x{got:02X}")

    def response_packet(self, what):
        first = self.byte()
        if first != STP:
            raise Failure(f"{what}: expected a response packet, got 0x{first:02X}")
        header = bytes([first]) + self.exactly(5)
        size = struct.unpack(">H", header[4:6])[0]
        rest = self.exactly(size + 2)
        body = header + rest[:-2]
        if packet_checksum(body) != rest[-2:]:
            raise Failure(f"{what}: the response packet's CRC does not match")
        self.send(bytes([ACK]))
        return header[2], header[3], rest[:-2]

    def request(self, data, what, ctrl=0x00, seq=0):
        """Sends a request in one packet; returns its response (every packet acknowledged)."""
        self.send_packet(data, what, ctrl, seq)
        return self.response(what)

    def send_packet(self, data, what, ctrl=0x00, seq=0):
        if self.toggle:
            ctrl |= 0x20
        self.toggle = not self.toggle
        self.send(packet(data, ctrl, seq))
        self.expect_link(ACK, f"{what}: the packet's acknowledgement")

    def response(self, what):
        message = b""
        while True:
            ctrl, seq, data = self.response_packet(what)
            message += data
            if not ctrl & 0x80 or seq == 0:
                return message

    def expect_code(self, data, code, what):
        response = self.request(data, what)
        if not response or response[0] != code:
            got = CODE_NAMES.get(response[0], hex(response[0])) if response else "nothing"
            raise Failure(f"{what}: expected {CODE_NAMES[code]}, got {got}")
        return response[1:]

    def session(self, password=READER_PASSWORD):
        """Identify, negotiate 1024-byte packets, logon and (with a password) security."""
        self.expect_code(IDENTIFY, OK, "identify")
        self.expect_code(negotiate(1024, 8), OK, "negotiate")
        self.expect_code(logon(), OK, "logon")
        if password is not None:
            self.expect_code(security(password), OK, "security")

    def read_table(self, table):
        response = self.expect_code(read(table), OK, f"read of table {table}")
        size = struct.unpack(">H", response[:2])[0]
        data = response[2:2 + size]
        if len(data) != size or data_checksum(data) != response[2 + size:3 + size]:
            raise Failure(f"read of table {table}: malformed table data")
        return data

    def import_mwh(self):
        """+A total (mWh) from ST-23, laid out as ST-21 says."""
        st21 = self.read_table(21)
        at = 1 if st21[0] & 0x04 else 0  # NBR_DEMAND_RESETS first when DEMAND_RESET_CTR
        return struct.unpack("<q", self.read_table(23)[at:at + 8])[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, meterd, err_path):
    for _ in range(100):
        if meterd.poll() is not None:
            raise Failure("meterd stopped before its optical port opened:\n" + open(err_path).read())
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise Failure("meterd's optical port never opened")


class Expected:
    """The refusals the meter must have counted."""

    def __init__(self):
        self.packets = 0   # 0-0:128.40.2
        self.requests = 0  # 0-0:128.40.3
        self.logons = 0    # 0-0:128.40.5


def malformed(port, expected):
    cases = []

    def case(name):
        def register(fn):
            cases.append((name, fn))
            return fn
        return register

    @case("bad CRC: <nak>, then the same packet with its CRC is served")
    def _(p):
        good = packet(IDENTIFY)
        p.send(good[:-2] + bytes([good[-2] ^ 0xFF, good[-1]]))
        p.expect_link(NAK, "a packet with a bad CRC")
        expected.packets += 1
        p.send(good)
        p.expect_link(ACK, "the retransmission")
        if p.response("identify after a bad CRC")[0] != OK:
            raise Failure("identify after a bad CRC was not answered ok")

    @case("a length beyond the packet size: <nak> after the header")
    def _(p):
        p.send(bytes([STP, 0, 0, 0, 0xFF, 0xFF]))
        p.expect_link(NAK, "a packet of 65535 data bytes")
        expected.packets += 1

    @case("a truncated packet left past the inter-character timeout: <nak>")
    def _(p):
        p.send(packet(IDENTIFY)[:-3])
        p.expect_link(NAK, "a packet cut short")  # sent by the meter's timer, 500 ms on
        expected.packets += 1

    @case("garbage before the start byte: dropped, the packet after it served")
    def _(p):
        p.send(b"\x00\xffAT+GARBAGE\r\n" + packet(IDENTIFY))
        p.expect_link(ACK, "identify after garbage")
        if p.response("identify after garbage")[0] != OK:
            raise Failure("identify after garbage was not answered ok")
        expected.packets += 1  # one run of garbage

    @case("an unknown service code: sns")
    def _(p):
        p.expect_code(IDENTIFY, OK, "identify")
        p.expect_code(b"\x10\x00\x01", SNS, "service 0x10")
        expected.requests += 1

    @case("requests in the wrong state: isss before identify and before logon")
    def _(p):
        p.expect_code(read(1), ISSS, "read before identify")
        p.expect_code(IDENTIFY, OK, "identify")
        p.expect_code(read(1), ISSS, "read before logon")
        p.expect_code(security(READER_PASSWORD), ISSS, "security before logon")
        expected.requests += 3

    @case("a zero-length packet: iar")
    def _(p):
        p.expect_code(b"", IAR, "an empty packet")
        expected.requests += 1

    @case("a negotiate with nonsense values: iar")
    def _(p):
        p.expect_code(IDENTIFY, OK, "identify")
        p.expect_code(b"\x62\x00\x04\x00\xff\x42", IAR, "negotiate 4-byte packets, 0 packets")
        p.expect_code(b"\x61\x04\x00\x02\x0f", IAR, "negotiate a reserved baud rate")
        p.expect_code(b"\x63\x04\x00\x02\x06", IAR, "negotiate with fewer rates than its code")
        expected.requests += 3

    @case("a 20-byte password of 0xFF: isc; the session reads on with the public role")
    def _(p):
        p.session(password=None)
        p.expect_code(b"\x51" + b"\xff" * 20, ISC, "security with 20 bytes of 0xFF")
        expected.requests += 1
        expected.logons += 1
        p.expect_code(read(76), ISC, "the event log without a password")
        expected.requests += 1
        p.read_table(1)

    @case("a read of a table the meter does not have: sns")
    def _(p):
        p.session()
        p.expect_code(read(2), SNS, "read of ST-2")
        p.expect_code(read(2049 + 100), SNS, "read of MT-101")
        expected.requests += 2

    @case("a table write with a bad checksum: err")
    def _(p):
        p.session()
        st7 = bytes([0x01, 0x08, 0x01])  # MP-1, sequence 1
        p.expect_code(b"\x40\x00\x07" + table_data(st7, checksum=data_checksum(st7)[0] ^ 0x5A),
                      ERR, "a write of ST-7 with a bad checksum")
        p.expect_code(b"\x40\x00\x07\x00\x09" + st7, IAR, "a write whose count is past its end")
        expected.requests += 2

    @case("a response larger than the negotiated packets: onp")
    def _(p):
        p.expect_code(IDENTIFY, OK, "identify")
        p.expect_code(logon(), OK, "logon")
        p.expect_code(read(23), ONP, "ST-23 in one 64-byte packet")
        expected.requests += 1

    @case("a multi-packet request of more packets than the port takes: ignored")
    def _(p):
        p.session()
        # First of 41 packets (the port reassembles 8): acknowledged as a packet, never answered.
        p.send_packet(b"\x40\x00\x07\x00\x20" + b"\x00" * 20, "the first of 41 packets",
                      ctrl=0xC0, seq=40)
        expected.packets += 1
        # The next thing the meter sends is the answer to the next request.
        if p.read_table(1)[:3] != b"MPR":
            raise Failure("ST-1 after an oversize multi-packet request is not the meter's")

    for name, fn in cases:
        p = Probe(port)
        try:
            fn(p)
        except (Failure, OSError) as e:
            raise Failure(f"{name}: {e}") from e
        finally:
            p.close()
        print(f"ok: {name}")


def report_value(report, code):
    m = re.search(r"^\s+" + re.escape(code) + r"\s+(\S+)", report, re.M)
    if not m:
        raise Failure(f"{code} is not in meterd's report")
    return m.group(1)


def report_import_mwh(report):
    m = re.search(r"^\s+1-0:1\.8\.0\s+([0-9.]+) (k?)Wh", report, re.M)
    if not m:
        raise Failure("the import register 1-0:1.8.0 is not in meterd's report")
    return round(float(m.group(1)) * (1e6 if m.group(2) else 1e3))


def main():
    meterd_path, src, out = sys.argv[1:4]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    port = free_port()
    site = os.path.join(out, "site.toml")
    # A shop's load without PV: a household exports for hours of the day, and +A would stand
    # still whatever the malformed frames did; the meter's import must move for the check to
    # mean something at any hour this test runs.
    with open(os.path.join(src, "config/sites/toronto-tou.toml")) as f:
        text = f.read()
    for old, new in (('model = "residential-pv"', 'model = "commercial"'),
                     ("pv_peak_w = 5000", "pv_peak_w = 0")):
        if old not in text:
            raise Failure(f"the Toronto site no longer says {old}; update this test")
        text = text.replace(old, new)
    with open(site, "w") as f:
        f.write(text)
    with open(site, "a") as f:
        f.write(f"\n[plugins.optical]\nport = {port}\n")
    out_path, err_path = os.path.join(out, "meterd.out"), os.path.join(out, "meterd.err")
    with open(out_path, "w") as stdout, open(err_path, "w") as stderr:
        meterd = subprocess.Popen([meterd_path, "--sku", os.path.join(src, "config/skus/tou.toml"),
                                   "--site", site, "--state", os.path.join(out, "state")],
                                  stdout=stdout, stderr=stderr)
    expected = Expected()
    try:
        wait_for_port(port, meterd, err_path)
        p = Probe(port)
        p.session()
        import_before = p.import_mwh()
        p.expect_code(LOGOFF, OK, "logoff")
        p.expect_code(TERMINATE, OK, "terminate")
        p.close()

        malformed(port, expected)

        # A well-formed session still works, and the meter kept metering meanwhile.
        p = Probe(port)
        p.session()
        st1 = p.read_table(1)
        if st1[:3] != b"MPR" or len(st1) != 32:
            raise Failure(f"ST-1 after the malformed frames is not the meter's: {st1!r}")
        import_after = p.import_mwh()
        for _ in range(50):  # one tick a second: bounded, at most 10 s
            if import_after > import_before:
                break
            time.sleep(0.2)
            import_after = p.import_mwh()
        if import_after <= import_before:
            raise Failure(f"the import register stood still: {import_before} mWh")
        p.expect_code(LOGOFF, OK, "logoff")
        p.expect_code(TERMINATE, OK, "terminate")
        p.close()
        print(f"ok: a well-formed session after them; +A {import_before} -> {import_after} mWh")
    finally:
        if meterd.poll() is None:
            meterd.send_signal(signal.SIGTERM)
        try:
            meterd.wait(timeout=30)
        except subprocess.TimeoutExpired:
            meterd.kill()
            meterd.wait()

    report = open(out_path).read()
    if meterd.returncode != 0:
        raise Failure(f"meterd exited with {meterd.returncode}:\n" + open(err_path).read())
    if not re.search(r"^-- plugin optical \S+ \(running, 0 faults\)", report, re.M):
        raise Failure("the optical plugin did not run without faults:\n" + report)
    counted = {
        "0-0:128.40.2": (expected.packets, "packets refused"),
        "0-0:128.40.3": (expected.requests, "requests refused"),
        "0-0:128.40.5": (expected.logons, "logons refused"),
    }
    for code, (want, what) in counted.items():
        got = report_value(report, code)
        if got != str(want):
            raise Failure(f"{code} ({what}) is {got}, expected {want}")
    reported = report_import_mwh(report)
    if reported < import_after:
        raise Failure(f"the report's +A {reported} mWh is below the last ST-23 {import_after} mWh")
    print(f"malformed frames against meterd on 127.0.0.1:{port}: {expected.packets} packets and "
          f"{expected.requests} requests refused and counted; +A {reported} mWh at the end")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
