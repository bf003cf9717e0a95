#!/usr/bin/env bash
# Builds the UEFI test disk: a GPT raw image (default 16 MiB) with one EFI system partition (FAT16) holding
# \EFI\BOOT\BOOTX64.EFI, a standalone GRUB whose embedded grub.cfg prints "BOOTHERD-MARKER uefi" on the first
# serial port and powers off. Built without mounting (sgdisk, mkfs.vfat, mtools).
# Needs grub-efi-amd64-bin, grub-common, gdisk, dosfstools, mtools. Exits 77 (skip) when one is missing.
# Usage: make_uefi_disk.sh OUT.img [SIZE_MIB]
set -euo pipefail
out=${1:?usage: make_uefi_disk.sh OUT.img [SIZE_MIB]}
size_mib=${2:-16}

missing=()
command -v grub-mkstandalone >/dev/null || missing+=(grub-common)
[ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
command -v sgdisk >/dev/null || missing+=(gdisk)
command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
command -v mcopy >/dev/null || missing+=(mtools)
if [ ${#missing[@]} -gt 0 ]; then
  echo "make_uefi_disk: SKIP, missing packages: ${missing[*]}" >&2
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_output serial
echo BOOTHERD-MARKER uefi
halt
CFG
modules="normal serial terminal echo halt"
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" --modules="$modules" --install-modules="$modules" \
  --locales= --fonts= --themes= "boot/grub/grub.cfg=$work/grub.cfg"

rm -f "$out"
truncate -s "${size_mib}M" "$out"
# ESP from 1 MiB to the last usable sector (the backup GPT takes the last 33 sectors).
sgdisk --clear --new=1:2048:0 --typecode=1:ef00 --change-name=1:ESP "$out" >/dev/null
first=$(sgdisk --info=1 "$out" | sed -nE 's/^First sector: ([0-9]+).*/\1/p')
last=$(sgdisk --info=1 "$out" | sed -nE 's/^Last sector: ([0-9]+).*/\1/p')
sectors=$((last - first + 1))

truncate -s $((sectors * 512)) "$work/esp.img"
mkfs.vfat -F 16 -n BOOTHERD "$work/esp.img" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
dd if="$work/esp.img" of="$out" bs=512 seek="$first" conv=notrunc status=none
