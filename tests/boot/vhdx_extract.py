#!/usr/bin/python3
"""Reads a byte range of a VHD/VHDX chain with libvhdi (pyvhdi) into a file: an independent reader of what
bootherd wrote. Usage: vhdx_extract.py OUT OFFSET LENGTH IMAGE [PARENT...] (the chain from the child up to
its base). Prints the chain's media size and each file's type. All-zero blocks are left as holes in OUT."""
import sys

import pyvhdi

CHUNK = 1 << 20


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    out, offset, length, chain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    files = []
    for path in chain:
        f = pyvhdi.file()
        f.open(path)
        files.append(f)
    # Each child reads its unallocated blocks from its parent.
    for child, parent in zip(files, files[1:]):
        child.set_parent(parent)
    top = files[0]
    size = top.get_media_size()
    if offset < 0 or length <= 0 or offset + length > size:
        print(f"vhdx_extract: range {offset}+{length} outside the disk ({size} bytes)", file=sys.stderr)
        return 1
    for path, f in zip(chain, files):
        print(f"{path}: disk type {f.get_disk_type()}, format {f.get_format_version()}")
    zero = bytes(CHUNK)
    with open(out, "wb") as dst:
        done = 0
        top.seek_offset(offset)
        while done < length:
            data = top.read_buffer(min(CHUNK, length - done))
            if not data:
                print(f"vhdx_extract: short read at {offset + done}", file=sys.stderr)
                return 1
            if data == zero[: len(data)]:
                dst.seek(len(data), 1)
            else:
                dst.write(data)
            done += len(data)
        dst.truncate(length)
    print(f"media size {size}, extracted {length} bytes from offset {offset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
