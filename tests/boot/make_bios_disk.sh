#!/usr/bin/env bash
# Builds the BIOS test disk: a raw image (default 8 MiB) whose MBR boot code counts boots in LBA 1 through
# INT 13h and prints "BOOTHERD-MARKER boot=<n>" on COM1, then powers off. Needs nasm.
# Usage: make_bios_disk.sh OUT.img [SIZE_MIB]
set -euo pipefail
out=${1:?usage: make_bios_disk.sh OUT.img [SIZE_MIB]}
size_mib=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
command -v nasm >/dev/null || { echo "make_bios_disk: nasm is missing (apt-get install nasm)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -o "$work/mbr.bin" "$here/bios_counter.asm"
[ "$(stat -c %s "$work/mbr.bin")" -eq 512 ] || { echo "make_bios_disk: boot sector is not 512 bytes" >&2; exit 1; }

rm -f "$out"
truncate -s "${size_mib}M" "$out"
dd if="$work/mbr.bin" of="$out" conv=notrunc status=none
# LBA 1 stays zero: the boot code stamps its counter magic on the first boot.
