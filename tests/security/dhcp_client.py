#!/usr/bin/env python3
"""A minimal DHCP client for the attack suite: DISCOVER/OFFER/REQUEST/ACK on one interface through raw
packet sockets (so it works before the interface has an address), as PXE firmware (option 60 PXEClient, option
93 BIOS) unless --no-pxe. Prints the leased address. Usage: dhcp_client.py IFACE MAC [--no-pxe]"""
import os
import random
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(mac, payload):
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\0" * 4, b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + struct.pack("!H", ETH_P_IP) + ip + udp


def bootp(mac, xid, options):
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 4, b"\0" * 4,
                       b"\0" * 4, b"\0" * 4, mac, b"", b"")
    return head + b"\x63\x82\x53\x63" + options + b"\xff"


def option(code, value):
    return bytes([code, len(value)]) + value


def parse(packet, xid):
    if len(packet) < 14 + 20 + 8 + 240 or struct.unpack("!H", packet[12:14])[0] != ETH_P_IP:
        return None
    ihl = (packet[14] & 0x0F) * 4
    if packet[14 + 9] != 17:
        return None
    udp = packet[14 + ihl:]
    if struct.unpack("!H", udp[2:4])[0] != 68:
        return None
    msg = udp[8:]
    if struct.unpack("!I", msg[4:8])[0] != xid or msg[236:240] != b"\x63\x82\x53\x63":
        return None
    options, at = {}, 240
    while at < len(msg) and msg[at] != 255:
        if msg[at] == 0:
            at += 1
            continue
        options[msg[at]] = msg[at + 2:at + 2 + msg[at + 1]]
        at += 2 + msg[at + 1]
    return socket.inet_ntoa(msg[16:20]), options


def exchange(sock, mac, xid, payload, want, deadline):
    sock.send(frame(mac, payload))
    resend = time.time() + 1
    while time.time() < deadline:
        sock.settimeout(max(0.05, min(resend, deadline) - time.time()))
        try:
            got = parse(sock.recv(2048), xid)
        except socket.timeout:
            got = None
        if got and got[1].get(53) == bytes([want]):
            return got
        if time.time() >= resend:
            sock.send(frame(mac, payload))
            resend = time.time() + 1
    sys.exit("dhcp_client: no answer")


def main():
    iface, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    pxe = "--no-pxe" not in sys.argv[3:]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.bind((iface, 0))
    xid = random.getrandbits(32)
    common = option(61, b"\x01" + mac)
    if pxe:
        common += option(60, b"PXEClient:Arch:00000:UNDI:002001") + option(93, b"\0\0")
    deadline = time.time() + 15
    offered, offer = exchange(sock, mac, xid, bootp(mac, xid, option(53, b"\x01") + common), 2, deadline)
    request = option(53, b"\x03") + option(50, socket.inet_aton(offered)) + option(54, offer[54]) + common
    leased, _ = exchange(sock, mac, xid, bootp(mac, xid, request), 5, deadline)
    print(leased)


if __name__ == "__main__":
    main()
