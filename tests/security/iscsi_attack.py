"""Hostile and well-behaved raw iSCSI initiators for the iscsi_*.sh attack tests (standard library only; the
PDU helpers come from tests/integration/iscsi_raw.py). Every socket goes to 127.0.0.1, from a chosen
127.0.0.0/8 source address.

  iscsi_attack.py slow-reader PORT IQN PID    one session that never reads its 8 MiB READs, one that keeps
                                              reading 4 KiB; prints the server's peak RSS and the good
                                              session's worst latency; fails past the bounds
  iscsi_attack.py session-caps PORT IQN       logins beyond the per-target cap from two addresses
  iscsi_attack.py idle PORT N ADDR...         N idle TCP connections from each ADDR, held until stdin closes
"""
import os
import resource
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import iscsi_raw  # noqa: E402

RSS_BOUND_MIB = 200  # above the server's RSS before the attack
LATENCY_BOUND_S = 1.0


class Session(iscsi_raw.Conn):
    """iscsi_raw.Conn from a chosen source address, with its own initiator name and ISID."""

    def __init__(self, port, source="127.0.0.1", initiator=iscsi_raw.INITIATOR, isid=1, timeout=5.0,
                 rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        self.s = s
        self.cmdsn = 1
        self.statsn = 0
        self.itt = 1
        self.isid = b"\x80" + isid.to_bytes(5, "big")
        self.initiator = initiator

    def login_normal(self, target, mrdsl=8192):
        cls, det, _, _ = self.login_step(0, 1, [("InitiatorName", self.initiator), ("TargetName", target),
                                                 ("SessionType", "Normal"), ("AuthMethod", "None")])
        if (cls, det) != (0, 0):
            return cls << 8 | det
        cls, det, _, _ = self.login_step(1, 3, [("HeaderDigest", "None"), ("DataDigest", "None"),
                                                 ("MaxRecvDataSegmentLength", str(mrdsl)),
                                                 ("MaxBurstLength", "16776192"),
                                                 ("ImmediateData", "No"), ("InitialR2T", "Yes")])
        self.cmdsn = self.expcmdsn
        return cls << 8 | det

    def read10(self, lba, blocks, edtl):
        cdb = bytes([0x28, 0]) + struct.pack(">I", lba) + b"\0" + struct.pack(">H", blocks) + b"\0"
        return self.scsi(cdb, edtl, read=True)

    def alive(self):
        """True if the target still answers a NOP-Out on this session."""
        try:
            itt = self.nop()
            while True:
                h, _ = self.recv_pdu()
                if h[0] & 0x3F == iscsi_raw.NOP_IN and struct.unpack(">I", h[16:20])[0] == itt:
                    return True
        except (OSError, EOFError):
            return False


def rss_mib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def slow_reader(port, iqn, pid):
    baseline = rss_mib(pid)
    peak = [baseline]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mib(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    # The attacker: a small receive window, READs of 8 MiB (the largest the target takes) filling the CmdSN
    # window, and never a byte read back. Sending may block once the target stops reading: that is the point.
    bad = Session(port, initiator="iqn.2026-12.test:slow-reader", isid=0x51, rcvbuf=16384, timeout=2.0)
    assert bad.login_normal(iqn, mrdsl=262144) == 0, "slow reader login failed"
    window = (bad.maxcmdsn - bad.expcmdsn + 1) & 0xFFFFFFFF
    blocks = 16384  # 8 MiB of 512-byte blocks
    sent = 0

    def flood():
        nonlocal sent
        try:
            for i in range(window):
                bad.read10((i * blocks) % (1 << 20), blocks, blocks * 512)
                sent += 1
        except OSError:
            pass  # the target stopped reading this socket

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()

    # The well-behaved session, reading 4 KiB blocks one at a time for 10 s.
    good = Session(port, initiator="iqn.2026-12.test:good-reader", isid=0x52, timeout=30.0)
    assert good.login_normal(iqn) == 0, "good reader login failed"
    for _ in range(3):  # a new session's first command meets the unit attention of the power-on
        if good.wait_status(good.read10(0, 8, 4096)) == 0:
            break
    worst, reads, failures = 0.0, 0, 0
    end = time.monotonic() + 10.0
    lba = 0
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            status = good.wait_status(good.read10(lba, 8, 4096))
        except (OSError, EOFError):
            failures += 1
            break
        worst = max(worst, time.monotonic() - t0)
        failures += status != 0
        reads += 1
        lba = (lba + 8) % 8192
    flooder.join(timeout=1)
    stop.set()
    sampler.join()
    hwm = rss_mib(pid, "VmHWM")
    growth = max(peak[0], hwm) - baseline
    print("slow reader: %d of %d 8 MiB READs sent (window %d)" % (sent, window, window))
    print("server RSS: before %.0f MiB, peak %.0f MiB (VmHWM %.0f MiB), growth %.0f MiB (bound %d MiB)"
          % (baseline, peak[0], hwm, growth, RSS_BOUND_MIB))
    print("good session: %d 4 KiB reads, %d failed, worst latency %.1f ms (bound %.0f ms)"
          % (reads, failures, worst * 1000, LATENCY_BOUND_S * 1000))
    ok = True
    if growth > RSS_BOUND_MIB:
        print("FAIL: the server's RSS grew by %.0f MiB" % growth)
        ok = False
    if worst > LATENCY_BOUND_S or failures or reads == 0:
        print("FAIL: the good session suffered (worst %.1f ms, %d failures)" % (worst * 1000, failures))
        ok = False
    return 0 if ok else 1


def session_caps(port, iqn):
    """Expects the default cap of 2 sessions per target."""
    ok = True
    machine = "iqn.2026-12.test:machine-a"
    firmware = Session(port, "127.0.0.1", machine, isid=0x1001)
    osess = Session(port, "127.0.0.1", machine, isid=0x1002)
    assert firmware.login_normal(iqn) == 0 and osess.login_normal(iqn) == 0, "first two logins failed"

    refused = accepted = 0
    others = []
    statuses = set()
    for i in range(10):
        other = Session(port, "127.0.0.2", "iqn.2026-12.test:machine-b-%d" % i, isid=0x2000 + i)
        try:
            status = other.login_normal(iqn)
        except (OSError, EOFError, AssertionError):
            status = -1
        if status == 0:
            accepted += 1
            others.append(other)
        else:
            refused += 1
            statuses.add("0x%04x" % status if status >= 0 else "connection cut")
            other.close()
    print("beyond the cap from another address: %d accepted, %d refused (%s)"
          % (accepted, refused, ", ".join(sorted(statuses)) or "-"))
    if accepted:
        print("FAIL: logins from another address got in beyond the cap")
        ok = False

    # The machine at 127.0.0.1 reboots five times, each boot with new ISIDs (firmware then OS), leaving its
    # old sessions open: every login must get in.
    boots_ok = 0
    live = [firmware, osess]
    for boot in range(5):
        for step in range(2):
            s = Session(port, "127.0.0.1", machine, isid=0x3000 + boot * 2 + step)
            status = s.login_normal(iqn)
            if status != 0:
                print("FAIL: boot %d login %d refused with 0x%04x" % (boot, step, status))
                ok = False
            else:
                boots_ok += 1
                live.append(s)
    time.sleep(0.3)
    still = sum(1 for s in live if s.alive())
    print("new boots from the same address: %d of 10 logins accepted; %d of its %d sessions still open"
          % (boots_ok, still, len(live)))
    if still > 2:
        print("FAIL: more than 2 sessions open on the target")
        ok = False
    if not live[-1].alive() or not live[-2].alive():
        print("FAIL: the newest boot's sessions are not the ones kept")
        ok = False
    return 0 if ok else 1


def idle(port, count, sources):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held, failed = [], 0
    for source in sources:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.bind((source, 0))
                s.connect(("127.0.0.1", port))
                held.append(s)
            except OSError:
                failed += 1
                s.close()
    print("idle connections: %d open, %d failed to connect" % (len(held), failed), flush=True)
    sys.stdin.read()  # held until the test closes our stdin
    return 0


def main(argv):
    if argv[1] == "slow-reader":
        return slow_reader(int(argv[2]), argv[3], int(argv[4]))
    if argv[1] == "session-caps":
        return session_caps(int(argv[2]), argv[3])
    if argv[1] == "idle":
        return idle(int(argv[2]), int(argv[3]), argv[4:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
