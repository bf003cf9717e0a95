"""Hostile and malformed input against `bootherd share`: each case gets the right Reject / login status / close,
and after each one a fresh, well-behaved session still logs in and runs TEST UNIT READY."""
import os
import resource
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import iscsi_raw as raw  # noqa: E402

TARGET = "iqn.2026-11.org.bootherd:badinput"
TUR = bytes(6)


def healthy(port):
    c = raw.Conn(port)
    cls, det, _ = c.login(TARGET)
    assert (cls, det) == (0, 0), "a fresh login failed with %d/%d" % (cls, det)
    assert c.wait_status(c.scsi(TUR)) in (0, 2)  # GOOD, or CHECK CONDITION for the first unit attention
    c.close()


def case_unknown_target(port):
    c = raw.Conn(port)
    cls, det, _, _ = c.login_step(0, 1, [("InitiatorName", raw.INITIATOR), ("TargetName", "iqn.2026-11.no:such"),
                                        ("SessionType", "Normal"), ("AuthMethod", "None")])
    assert (cls, det) == (2, 3), "unknown target answered %d/%d, want 2/3 (not found)" % (cls, det)


def case_key_without_equals(port):
    c = raw.Conn(port)
    data = b"InitiatorName=" + raw.INITIATOR.encode() + b"\0TargetName=" + TARGET.encode() + b"\0JunkKeyNoValue\0"
    cls, det, _, _ = c.login_step(0, 1, raw=data)
    assert cls == 2, "a key without '=' answered class %d, want 2 (initiator error)" % cls


def case_unknown_opcode(port):
    c = raw.Conn(port)
    assert c.login(TARGET)[:2] == (0, 0)
    c.send(raw.bhs(0x1C, 0x80, rest=b"\0" * 14 + struct.pack(">I", 77)))  # 0x1c: vendor-specific, unsupported
    h, _ = c.recv_pdu()
    assert h[0] & 0x3F == raw.REJECT, "unknown opcode answered opcode 0x%02x, want Reject" % (h[0] & 0x3F)
    assert h[2] in (0x04, 0x05), "Reject reason 0x%02x, want 0x05 (command not supported)" % h[2]
    # The session is still usable.
    itt = c.nop(b"ping")
    while True:
        h, body = c.recv_pdu()
        if h[0] & 0x3F == raw.NOP_IN:
            assert body == b"ping"
            break


def case_oversized_segment(port):
    c = raw.Conn(port)
    cls, det, keys = c.login(TARGET)
    assert (cls, det) == (0, 0)
    limit = int(keys.get("MaxRecvDataSegmentLength", "8192"))
    c.nop(b"x" * (limit + 4096))
    try:
        h, _ = c.recv_pdu()
        assert h[0] & 0x3F == raw.REJECT, "an oversized data segment answered opcode 0x%02x" % (h[0] & 0x3F)
    except (EOFError, ConnectionResetError):
        pass  # closing the connection is a correct answer too


def case_cmdsn_outside_window(port):
    c = raw.Conn(port, timeout=1.5)
    assert c.login(TARGET)[:2] == (0, 0)
    itt = c.scsi(TUR, cmdsn=c.cmdsn + 100000)
    try:
        h, _ = c.recv_pdu()
        raise AssertionError("a command outside the CmdSN window was answered (opcode 0x%02x)" % (h[0] & 0x3F))
    except socket.timeout:
        pass  # RFC 7143 §3.2.2.1: silently ignored
    c.s.settimeout(5)
    assert c.wait_status(c.scsi(TUR)) in (0, 2), "the session did not go on after the ignored command"
    del itt


def case_truncated_pdu(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(raw.bhs(0x43, 0x87)[:20])  # 20 of 48 header bytes, then hang up
    s.close()
    s = socket.create_connection(("127.0.0.1", port))
    h = bytearray(raw.bhs(0x43, 0x87))
    h[5:8] = (4000).to_bytes(3, "big")  # claims 4000 data bytes, sends 10
    s.sendall(bytes(h) + b"0123456789")
    s.close()


def case_idle_connections(port):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
    healthy(port)  # served while 1 000 connections sit silent
    for s in idle:
        s.close()


def case_silent_initiator_pinged(port):
    """Like iPXE: never answers the target's NOP-In pings; the session must stay up (keepalive and the idle
    timeout, not ping timeouts, reap dead initiators). A second session answers its pings."""
    silent, answering = raw.Conn(port, timeout=60), raw.Conn(port, timeout=60)
    answering.isid = b"\x80\x00\x00\x00\x56\x78"
    for c in (silent, answering):
        cls, det, _ = c.login(TARGET)
        assert (cls, det) == (0, 0), "login failed with %d/%d" % (cls, det)
    for c in (silent, answering):
        h, _ = c.recv_pdu()  # the first thing an idle session receives is the target's ping
        assert h[0] & 0x3F == raw.NOP_IN, "expected a NOP-In ping, got opcode 0x%02x" % (h[0] & 0x3F)
        itt, ttt = struct.unpack(">II", h[16:24])
        assert itt == 0xFFFFFFFF and ttt != 0xFFFFFFFF, "a ping has ITT 0xffffffff and a TTT, got %x/%x" % (itt, ttt)
        c.ping_ttt = ttt
    answering.answer_ping(answering.ping_ttt)
    for c in (silent, answering):  # both still served
        assert c.wait_status(c.scsi(TUR)) in (0, 2)
        c.close()


CASES = [case_silent_initiator_pinged, case_unknown_target, case_key_without_equals, case_unknown_opcode, case_oversized_segment,
         case_cmdsn_outside_window, case_truncated_pdu, case_idle_connections]


def main():
    bootherd, workdir = sys.argv[1], sys.argv[2]
    disk = os.path.join(workdir, "bad-input.img")
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    log = open(os.path.join(workdir, "share.log"), "w+")
    server = subprocess.Popen([bootherd, "share", disk, "--listen", "127.0.0.1:0", "--iqn", TARGET],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(100):
            log.seek(0)
            for line in log.read().splitlines():
                if "on 127.0.0.1:" in line:
                    port = int(line.rsplit(":", 1)[1])
            if port:
                break
            time.sleep(0.1)
        assert port, "bootherd share did not start"
        failures = 0
        for case in CASES:
            try:
                case(port)
                healthy(port)
                print("ok:", case.__name__)
            except Exception as e:  # report every case, not just the first
                failures += 1
                print("FAIL:", case.__name__, "-", repr(e))
        assert server.poll() is None, "the server died"
        print("%d passed, %d failed" % (len(CASES) - failures, failures))
        return 1 if failures else 0
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
