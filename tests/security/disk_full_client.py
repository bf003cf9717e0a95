"""An iSCSI initiator for disk_full.sh: one session (CHAP MD5), WRITE(10) / READ(10) / SYNCHRONIZE CACHE(10)
with R2T handling, and the sense data of every CHECK CONDITION. Standard library only.

  fill PORT TARGET INITIATOR USER SECRET LEDGER [BALLAST]
      writes 64 KiB patterns at a 256 KiB stride, past the ranges LEDGER already holds, with a SYNCHRONIZE
      CACHE after every 8 writes until a write fails; then overwrites a few acknowledged ranges and
      synchronizes again; with BALLAST (a file on the full file system) it deletes that file and writes and
      synchronizes once more; last, it overwrites a few ranges without synchronizing. Records in LEDGER
      (JSON) every acknowledged write, whether a GOOD SYNCHRONIZE CACHE followed it, and the sense of every
      failed command.
  write PORT TARGET INITIATOR USER SECRET LEDGER COUNT
      COUNT writes as above, synchronized; then 4 more that are left unsynchronized.
  verify PORT TARGET INITIATOR USER SECRET LEDGER [all]
      reads back every acknowledged write; prints the figures; exits 1 if a synced write is lost (with
      `all`: if any acknowledged write is lost, for a server that stopped cleanly after them).
"""
import hashlib
import json
import os
import socket
import struct
import sys

BLOCK = 512
WRITE_BYTES = 64 * 1024
STRIDE = 256 * 1024
SYNC_EVERY = 8
GOOD, CHECK_CONDITION = 0x00, 0x02


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


def text(pairs):
    return b"".join(k.encode() + b"=" + v.encode() + b"\0" for k, v in pairs)


def parse_text(body):
    return dict(kv.split("=", 1) for kv in body.decode().split("\0") if "=" in kv)


def pattern(seq, lba, length):
    """Content of write number `seq` at `lba`: every 8 bytes name the write and the block."""
    out = bytearray(length)
    for off in range(0, length, 8):
        struct.pack_into(">HIH", out, off, seq & 0xFFFF, lba + off // BLOCK, 0xD15C)
    return bytes(out)


class CommandFailed(Exception):
    def __init__(self, status, sense):
        super().__init__("status 0x%02x sense %s" % (status, sense))
        self.status, self.sense = status, sense


def decode_sense(data):
    """(key, asc, ascq) from the SCSI Response data segment (2-byte SenseLength, then sense data)."""
    if len(data) < 2:
        return None
    sense = data[2:2 + struct.unpack(">H", data[:2])[0]]
    if len(sense) >= 14 and sense[0] & 0x7F in (0x70, 0x71):
        return "%02x/%02x/%02x" % (sense[2] & 0x0F, sense[12], sense[13])
    if len(sense) >= 4 and sense[0] & 0x7F in (0x72, 0x73):
        return "%02x/%02x/%02x" % (sense[1] & 0x0F, sense[2], sense[3])
    return None


class Session:
    def __init__(self, port, target, initiator, user, secret):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.itt = 0
        self.cmdsn = 1
        self.statsn = 0
        self.max_send = 8192  # the target's MaxRecvDataSegmentLength until it declares one
        self.login(target, initiator, user, secret)
        try:  # takes the power-on unit attention
            self.command(bytes(6))
        except CommandFailed as e:
            if not (e.sense or "").startswith("06/"):
                raise

    def send(self, raw):
        self.s.sendall(raw)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed by the target")
            buf += chunk
        return bytes(buf)

    def recv_pdu(self):
        h = self.recv_exact(48)
        dlen = int.from_bytes(h[5:8], "big")
        body = self.recv_exact(h[4] * 4 + dlen + (-dlen % 4))
        return h, body[h[4] * 4:h[4] * 4 + dlen]

    def login_step(self, csg, nsg, transit, pairs):
        data = text(pairs)
        h = bytearray(48)
        h[0], h[1] = 0x43, (0x80 if transit else 0) | (csg << 2) | nsg
        h[5:8] = len(data).to_bytes(3, "big")
        h[8:14] = b"\x80\x00\x00\x00\xd1\x5c"
        struct.pack_into(">IHxxII", h, 16, 0, 0, self.cmdsn, self.statsn)
        self.send(bytes(h) + pad4(data))
        rh, body = self.recv_pdu()
        if rh[0] & 0x3F != 0x23 or rh[36] != 0:
            raise RuntimeError("login refused: class %d detail %d" % (rh[36], rh[37]))
        self.statsn = struct.unpack(">I", rh[24:28])[0] + 1
        self.cmdsn = struct.unpack(">I", rh[28:32])[0]
        return parse_text(body)

    def login(self, target, initiator, user, secret):
        keys = self.login_step(0, 0, False, [("InitiatorName", initiator), ("TargetName", target),
                                             ("SessionType", "Normal"), ("AuthMethod", "CHAP")])
        if keys.get("AuthMethod") != "CHAP":
            raise RuntimeError("target did not choose CHAP: %r" % keys)
        keys = self.login_step(0, 0, False, [("CHAP_A", "5")])
        ident = int(keys["CHAP_I"])
        challenge = bytes.fromhex(keys["CHAP_C"][2:])
        answer = hashlib.md5(bytes([ident]) + secret.encode() + challenge).hexdigest()
        self.login_step(0, 1, True, [("CHAP_N", user), ("CHAP_R", "0x" + answer)])
        keys = self.login_step(1, 3, True, [("HeaderDigest", "None"), ("DataDigest", "None"),
                                            ("MaxRecvDataSegmentLength", "65536"), ("ImmediateData", "No"),
                                            ("InitialR2T", "Yes"), ("MaxBurstLength", "262144")])
        self.max_send = int(keys.get("MaxRecvDataSegmentLength", self.max_send))

    def command(self, cdb, write=b"", read_length=0):
        """Runs one command; returns the Data-In bytes or raises CommandFailed."""
        self.itt += 1
        itt = self.itt
        h = bytearray(48)
        h[0] = 0x01
        h[1] = 0x80 | (0x20 if write else 0) | (0x40 if read_length else 0) | 0x01  # F, W, R, SIMPLE
        struct.pack_into(">IIII", h, 16, itt, len(write) or read_length, self.cmdsn, self.statsn)
        h[32:32 + len(cdb)] = cdb
        self.cmdsn += 1
        self.send(bytes(h))
        data = bytearray()
        while True:
            rh, body = self.recv_pdu()
            op = rh[0] & 0x3F
            if op == 0x20:  # NOP-In: answer a ping, ignore anything else
                if struct.unpack(">I", rh[20:24])[0] != 0xFFFFFFFF:
                    self.send_nop_out(rh, body)
                continue
            if struct.unpack(">I", rh[16:20])[0] != itt:
                continue
            if op == 0x31:  # R2T
                ttt = rh[20:24]
                offset, length = struct.unpack(">II", rh[40:48])
                self.send_data_out(itt, ttt, write, offset, length)
            elif op == 0x25:  # Data-In
                data += body
                if rh[1] & 0x01:
                    self.statsn = struct.unpack(">I", rh[24:28])[0] + 1
                    if rh[3] != GOOD:
                        raise CommandFailed(rh[3], None)
                    return bytes(data)
            elif op == 0x21:  # SCSI Response
                self.statsn = struct.unpack(">I", rh[24:28])[0] + 1
                if rh[3] != GOOD:
                    raise CommandFailed(rh[3], decode_sense(body))
                return bytes(data)
            else:
                raise RuntimeError("unexpected opcode 0x%02x" % op)

    def send_nop_out(self, rh, body):
        h = bytearray(48)
        h[0], h[1] = 0x40, 0x80
        h[5:8] = len(body).to_bytes(3, "big")
        h[8:16] = rh[8:16]
        struct.pack_into(">IIII", h, 16, 0xFFFFFFFF, struct.unpack(">I", rh[20:24])[0], self.cmdsn,
                         self.statsn)
        self.send(bytes(h) + pad4(body))

    def send_data_out(self, itt, ttt, write, offset, length):
        datasn = 0
        end = offset + length
        while offset < end:
            n = min(self.max_send, end - offset)
            h = bytearray(48)
            h[0] = 0x05
            h[1] = 0x80 if offset + n == end else 0
            h[5:8] = n.to_bytes(3, "big")
            struct.pack_into(">I4sI", h, 16, itt, ttt, 0)
            struct.pack_into(">I", h, 24, self.statsn - 1)
            struct.pack_into(">II", h, 36, datasn, offset)
            self.send(bytes(h) + pad4(write[offset:offset + n]))
            offset += n
            datasn += 1

    def write(self, lba, data):
        self.command(struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0), write=data)

    def read(self, lba, length):
        return self.command(struct.pack(">BBIBHB", 0x28, 0, lba, 0, length // BLOCK, 0), read_length=length)

    def capacity(self):
        data = self.command(struct.pack(">BBIBHB", 0x25, 0, 0, 0, 0, 0), read_length=8)
        last_lba, block = struct.unpack(">II", data)
        return (last_lba + 1) * block

    def sync(self):
        self.command(struct.pack(">BBIBHB", 0x35, 0, 0, 0, 0, 0))


class Ledger:
    """Acknowledged writes ({lba, seq, synced}) and failures, saved as JSON."""

    def __init__(self, path):
        self.path = path
        self.state = {"writes": [], "failures": [], "syncs_failed": 0}
        if os.path.exists(path):
            with open(path) as f:
                self.state = json.load(f)
        self.seq = 1 + max([w["seq"] for w in self.state["writes"]], default=0)

    def save(self):
        with open(self.path, "w") as f:
            json.dump(self.state, f)

    def write(self, session, lba):
        seq = self.seq
        self.seq += 1
        try:
            session.write(lba, pattern(seq, lba, WRITE_BYTES))
        except CommandFailed as e:
            self.state["failures"].append({"lba": lba, "sense": e.sense})
            return False
        self.state["writes"].append({"lba": lba, "seq": seq, "synced": False})
        return True

    def sync(self, session):
        try:
            session.sync()
        except CommandFailed as e:
            self.state["syncs_failed"] += 1
            self.state["failures"].append({"sync": True, "sense": e.sense})
            return False
        for w in self.state["writes"]:
            w["synced"] = True
        return True


def fill(session, ledger, ballast):
    lba = max([w["lba"] + STRIDE // BLOCK for w in ledger.state["writes"]], default=0)
    done = 0
    size = session.capacity()
    while lba * BLOCK + WRITE_BYTES <= size:
        if not ledger.write(session, lba):
            break
        lba += STRIDE // BLOCK
        done += 1
        if done % SYNC_EVERY == 0:
            ledger.sync(session)
    else:
        raise RuntimeError("the disk never filled up")
    # Overwrites of acknowledged ranges need no new space: they must still work on the full disk.
    acked = [w["lba"] for w in ledger.state["writes"]][-4:]
    for old in acked:
        ledger.write(session, old)
    ledger.sync(session)
    if ballast:
        os.unlink(ballast)
        for _ in range(4):
            ledger.write(session, lba)
            lba += STRIDE // BLOCK
        ledger.sync(session)
    # Acknowledged but never synchronized: the final flush at shutdown has to make these durable.
    for old in acked:
        ledger.write(session, old)


def write(session, ledger, count):
    lba = 0
    for done in range(1, count + 5):
        if not ledger.write(session, lba):
            raise RuntimeError("write %d failed: %s" % (done, ledger.state["failures"][-1]["sense"]))
        lba += STRIDE // BLOCK
        if done % SYNC_EVERY == 0 and done <= count and not ledger.sync(session):
            raise RuntimeError("SYNCHRONIZE CACHE failed")


def verify(session, ledger, all_durable):
    latest = {}
    for w in ledger.state["writes"]:
        latest.setdefault(w["lba"], []).append(w)
    acked = len(ledger.state["writes"])
    synced = sum(1 for w in ledger.state["writes"] if w["synced"])
    lost = 0
    for lba, history in latest.items():
        got = session.read(lba, WRITE_BYTES)
        # The newest synced write, or any later acknowledged one, may be there; nothing older.
        newest_synced = max((i for i, w in enumerate(history) if w["synced"]), default=None)
        if all_durable:
            newest_synced = len(history) - 1
        if newest_synced is None:
            continue
        if not any(got == pattern(w["seq"], lba, WRITE_BYTES) for w in history[newest_synced:]):
            lost += 1
            print("lost: LBA %d (write %d)" % (lba, history[newest_synced]["seq"]))
    senses = sorted({f["sense"] or "none" for f in ledger.state["failures"] if not f.get("sync")})
    print("writes acknowledged: %d, synced: %d, lost: %d, failed writes: %d (sense %s), failed syncs: %d" %
          (acked, synced, lost, sum(1 for f in ledger.state["failures"] if not f.get("sync")),
           ",".join(senses), ledger.state["syncs_failed"]))
    return lost


def main():
    mode, port, target, initiator, user, secret, ledger_path = sys.argv[1:8]
    session = Session(int(port), target, initiator, user, secret)
    ledger = Ledger(ledger_path)
    if mode in ("fill", "write"):
        try:
            if mode == "fill":
                fill(session, ledger, sys.argv[8] if len(sys.argv) > 8 else None)
            else:
                write(session, ledger, int(sys.argv[8]))
        finally:
            ledger.save()
        return 0
    return 1 if verify(session, ledger, sys.argv[8:] == ["all"]) else 0


if __name__ == "__main__":
    sys.exit(main())
