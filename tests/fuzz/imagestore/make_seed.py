#!/usr/bin/python3
"""Converts an image file into the sparse input form of the vhdx_parse fuzzer (see vhdx_parse.cpp)."""
import struct
import sys

PAGE = 4096


def sparse(path):
    data = open(path, "rb").read()
    out = bytearray(struct.pack("<Q", len(data)))
    page = 0
    while page * PAGE < len(data):
        chunk = data[page * PAGE:(page + 1) * PAGE]
        if chunk.strip(b"\0"):
            start = page
            while (page + 1) * PAGE < len(data) and data[(page + 1) * PAGE:(page + 2) * PAGE].strip(b"\0"):
                page += 1
            body = data[start * PAGE:(page + 1) * PAGE]
            out += struct.pack("<II", start * PAGE, len(body)) + body
        page += 1
    return bytes(out)


if __name__ == "__main__":
    sys.stdout.buffer.write(sparse(sys.argv[1]))
