"""A minimal raw iSCSI initiator for hostile-input tests: builds PDUs byte by byte so tests can send what no
well-behaved initiator would. Standard library only."""
import socket
import struct

LOGIN_REQ, LOGIN_RSP = 0x03, 0x23
SCSI_CMD, SCSI_RSP = 0x01, 0x21
NOP_OUT, NOP_IN = 0x00, 0x20
REJECT = 0x3F
INITIATOR = "iqn.2026-11.org.bootherd:test-raw"


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


def bhs(byte0, byte1, data=b"", rest=b""):
    """48-byte BHS: opcode byte, flags byte, then bytes 2..47 from `rest` (zero-filled)."""
    h = bytearray(48)
    h[0], h[1] = byte0, byte1
    h[2:2 + len(rest)] = rest
    h[5:8] = len(data).to_bytes(3, "big")
    return bytes(h) + pad4(data)


def text(pairs):
    return b"".join(k.encode() + b"=" + v.encode() + b"\0" for k, v in pairs)


class Conn:
    def __init__(self, port, timeout=5.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.cmdsn = 1
        self.statsn = 0
        self.itt = 1
        self.isid = b"\x80\x00\x00\x00\x12\x34"

    def close(self):
        self.s.close()

    def send(self, raw):
        self.s.sendall(raw)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed by the target")
            buf += chunk
        return buf

    def recv_pdu(self):
        h = self.recv_exact(48)
        ahs = h[4] * 4
        dlen = int.from_bytes(h[5:8], "big")
        body = self.recv_exact(ahs + dlen + (-dlen % 4))
        return h, body[ahs:ahs + dlen]

    def login_pdu(self, csg, nsg, transit, data):
        flags = (0x80 if transit else 0) | (csg << 2) | nsg
        h = bytearray(48)
        h[0], h[1] = 0x40 | LOGIN_REQ, flags
        h[5:8] = len(data).to_bytes(3, "big")
        h[8:14] = self.isid
        struct.pack_into(">IHxxII", h, 16, self.itt, 0, self.cmdsn, self.statsn)
        return bytes(h) + pad4(data)

    def login_step(self, csg, nsg, pairs=None, raw=None):
        data = raw if raw is not None else text(pairs)
        self.send(self.login_pdu(csg, nsg, True, data))
        h, body = self.recv_pdu()
        assert h[0] & 0x3F == LOGIN_RSP, "expected a Login Response, got opcode 0x%02x" % (h[0] & 0x3F)
        self.statsn = struct.unpack(">I", h[24:28])[0] + 1
        self.expcmdsn, self.maxcmdsn = struct.unpack(">II", h[28:36])
        return h[36], h[37], dict(kv.split("=", 1) for kv in body.decode().split("\0") if "=" in kv), h

    def login(self, target):
        cls, det, _, _ = self.login_step(0, 1, [("InitiatorName", INITIATOR), ("TargetName", target),
                                                 ("SessionType", "Normal"), ("AuthMethod", "None")])
        if (cls, det) != (0, 0):
            return cls, det, {}
        cls, det, keys, h = self.login_step(1, 3, [("HeaderDigest", "None"), ("DataDigest", "None"),
                                                    ("MaxRecvDataSegmentLength", "8192"),
                                                    ("ImmediateData", "No"), ("InitialR2T", "Yes")])
        self.cmdsn = self.expcmdsn
        return cls, det, keys

    def scsi(self, cdb, edtl=0, read=False, cmdsn=None):
        h = bytearray(48)
        h[0] = SCSI_CMD
        h[1] = 0x80 | (0x40 if read else 0) | 0x01
        self.itt += 1
        struct.pack_into(">IIII", h, 16, self.itt, edtl, self.cmdsn if cmdsn is None else cmdsn, self.statsn)
        h[32:32 + len(cdb)] = cdb
        if cmdsn is None:
            self.cmdsn += 1
        self.send(bytes(h))
        return self.itt

    def wait_status(self, itt):
        """Reads PDUs until the SCSI Response (or Data-In with status) for itt; returns the SCSI status."""
        while True:
            h, _ = self.recv_pdu()
            op = h[0] & 0x3F
            if struct.unpack(">I", h[16:20])[0] != itt:
                continue
            if op == SCSI_RSP:
                self.statsn = struct.unpack(">I", h[24:28])[0] + 1
                return h[3]
            if op == 0x25 and h[1] & 0x01:  # Data-In with the S bit
                self.statsn = struct.unpack(">I", h[24:28])[0] + 1
                return h[3]

    def nop(self, payload=b""):
        h = bytearray(48)
        h[0], h[1] = 0x40 | NOP_OUT, 0x80
        h[5:8] = len(payload).to_bytes(3, "big")
        h[8:16] = b"\0" * 8
        self.itt += 1
        struct.pack_into(">IIII", h, 16, self.itt, 0xFFFFFFFF, self.cmdsn, self.statsn)
        self.send(bytes(h) + pad4(payload))
        return self.itt

    def answer_ping(self, ttt):
        """NOP-Out answering the target's NOP-In ping (RFC 7143 11.18): ITT reserved, its TTT, immediate."""
        h = bytearray(48)
        h[0], h[1] = 0x40 | NOP_OUT, 0x80
        struct.pack_into(">IIII", h, 16, 0xFFFFFFFF, ttt, self.cmdsn, self.statsn)
        self.send(bytes(h))
