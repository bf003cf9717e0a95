#!/usr/bin/env python3
"""Writes a synthetic boot trace for bootstorm: lines "OFFSET LENGTH r|w" (bytes).

The shape follows what an OS does while it boots from a golden disk:
  - sequential reads (85% of the bytes): whole "files" (64 KiB to 8 MiB, 4 KiB aligned, at random places in the
    read span) read front to back in 128 KiB requests, the way a kernel's readahead fetches them;
  - 4 KiB random reads (10%): directory and inode lookups anywhere in the read span;
  - writes (5%): 4 to 64 KiB into a small write region (logs, /var, /tmp), which lands in each node's own
    differencing disk on bootherd.
The three kinds are interleaved at random. The same seed always gives the same trace.

  tools/bench/make_trace.py -o tools/bench/traces/synthetic-64m.trace
"""
import argparse
import random
import sys

KiB = 1024
MiB = 1024 * KiB


def size(text):
    units = {"k": KiB, "m": MiB, "g": 1024 * MiB}
    text = text.strip().lower()
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def align_down(value, alignment):
    return value - value % alignment


def sequential_reads(rng, budget, span, chunk):
    """Whole files read front to back; yields lists of (offset, length, 'r')."""
    files = []
    while budget > 0:
        length = min(align_down(rng.randint(64 * KiB, 8 * MiB), 4 * KiB), budget)
        start = align_down(rng.randrange(0, span - length + 1), 4 * KiB)
        files.append([(start + o, min(chunk, length - o), "r") for o in range(0, length, chunk)])
        budget -= length
    return files


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bytes", type=size, default=64 * MiB, help="total bytes moved (default 64M)")
    p.add_argument("--read-span", type=size, default=128 * MiB,
                   help="reads fall in [0, SPAN): the part of the golden image that holds files (default 128M)")
    p.add_argument("--write-offset", type=size, default=768 * MiB, help="start of the write region (default 768M)")
    p.add_argument("--write-span", type=size, default=32 * MiB, help="size of the write region (default 32M)")
    p.add_argument("--chunk", type=size, default=128 * KiB, help="sequential request size (default 128K)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("-o", "--output", default="-")
    a = p.parse_args()
    for name in ("bytes", "read_span", "write_span", "chunk"):
        if getattr(a, name) <= 0 or getattr(a, name) % (4 * KiB):
            p.error(f"--{name.replace('_', '-')} must be a positive multiple of 4 KiB")
    if a.write_offset % (4 * KiB):
        p.error("--write-offset must be a multiple of 4 KiB")

    rng = random.Random(a.seed)
    write_budget = align_down(a.bytes * 5 // 100, 4 * KiB)
    random_budget = align_down(a.bytes * 10 // 100, 4 * KiB)
    sequential_budget = a.bytes - write_budget - random_budget

    # Each stream is a list of "runs" that stay in order; runs are shuffled together, then flattened.
    runs = sequential_reads(rng, sequential_budget, a.read_span, a.chunk)
    runs += [[(align_down(rng.randrange(0, a.read_span), 4 * KiB), 4 * KiB, "r")]
             for _ in range(random_budget // (4 * KiB))]
    while write_budget > 0:
        length = min(rng.randint(1, 16) * 4 * KiB, write_budget)
        offset = a.write_offset + align_down(rng.randrange(0, a.write_span - length + 1), 4 * KiB)
        runs.append([(offset, length, "w")])
        write_budget -= length
    rng.shuffle(runs)

    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="ascii")
    with out:
        out.write(f"# bootstorm synthetic trace: make_trace.py --bytes {a.bytes} --read-span {a.read_span} "
                  f"--write-offset {a.write_offset} --write-span {a.write_span} --chunk {a.chunk} "
                  f"--seed {a.seed}\n# offset length r|w (bytes)\n")
        for run in runs:
            for offset, length, kind in run:
                out.write(f"{offset} {length} {kind}\n")


if __name__ == "__main__":
    main()
