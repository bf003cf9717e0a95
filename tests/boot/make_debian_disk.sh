#!/usr/bin/env bash
# Builds the real-OS test disk: a minimal Debian 12 whose root filesystem is on the (iSCSI) disk itself, bootable
# from BIOS and UEFI, without loop devices or mounts (as root: mmdebstrap needs it for its chroot).
#   MBR disk (2 GiB, sparse):
#     1  FAT16 "BHBOOT", active: vmlinuz, initrd.img; syslinux (BIOS: mbr.bin -> ldlinux.sys, reads the kernel and
#        initramfs through INT 13h, i.e. iPXE's SAN disk) and \EFI\BOOT\BOOTX64.EFI, a standalone GRUB (UEFI: reads
#        them through the firmware's block I/O, i.e. iPXE's SAN device)
#     2  ext4 root, made with `mkfs.ext4 -d` from the mmdebstrap tree
#   Debian: minbase + linux-image-amd64, systemd, initramfs-tools, open-iscsi (ISCSI_AUTO=true: the initramfs
#   logs in from the iBFT iPXE left, with the root-disk timeouts of tests/boot/realos/iscsi-root-timeouts), curl,
#   and the test OS (tests/boot/realos/bootherd-os, run by bootherd-os.service). Kernel command line:
#   console=ttyS0 (kernel warnings and errors, and the test OS's lines, on the first serial port).
# Packages come from the Debian mirror the host's apt uses (apt-get indextargets), nothing else is fetched.
# The result is cached in CACHE_DIR under a key hashed from this script and tests/boot/realos/*: a second call
# with the same recipe copies the cached disk (seconds); a changed recipe rebuilds it (~2-4 min, mostly mmdebstrap).
# Usage: make_debian_disk.sh OUT.img [CACHE_DIR]   (default CACHE_DIR: $BOOT_CACHE_DIR or /var/tmp/bootherd-boot-cache)
# Exits 77 (skip) when a needed command is missing.
set -euo pipefail
out=${1:?usage: make_debian_disk.sh OUT.img [CACHE_DIR]}
cache=${2:-${BOOT_CACHE_DIR:-/var/tmp/bootherd-boot-cache}}
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
disk_mib=2048
boot_start=2048         # sectors: partition 1 at 1 MiB
boot_mib=96
root_start=$((boot_start + boot_mib * 2048))

missing=()
for cmd in mmdebstrap mkfs.ext4 mkfs.vfat mcopy mmd syslinux grub-mkstandalone sha256sum apt-get; do
  command -v "$cmd" >/dev/null || missing+=("$cmd")
done
[ -r /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(/usr/lib/syslinux/mbr/mbr.bin)
[ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
if [ ${#missing[@]} -gt 0 ]; then
  echo "make_debian_disk: SKIP, missing: ${missing[*]} (see tools/install-deps.sh)" >&2
  exit 77
fi
[ "$(id -u)" -eq 0 ] || { echo "make_debian_disk: SKIP, needs root (mmdebstrap's chroot)" >&2; exit 77; }

key=$(cat "$0" "$here"/realos/* | sha256sum | cut -c1-16)
cached=$cache/debian-$suite-$key.img
if [ -s "$cached" ]; then
  cp --sparse=always "$cached" "$out"
  exit 0
fi

# The host's Debian mirror for the suite and its updates/security companions (sources.list or deb822 files).
mirrors=()
# shellcheck disable=SC2016 # $(...) are apt's format fields
while read -r uri release; do
  mirrors+=("deb $uri $release main")
done < <(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 'Origin: Debian' 2>/dev/null |
  grep -E " $suite(-updates|-security)?\$" | sort -u)
[ ${#mirrors[@]} -gt 0 ] || { echo "make_debian_disk: the host's apt has no Debian $suite source" >&2; exit 1; }

work=$(mktemp -d /var/tmp/bootherd-debian.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
echo "make_debian_disk: building (cache miss $key) from: ${mirrors[*]}" >&2

# Before the kernel is installed (its postinst builds the initramfs): a small initramfs (listed modules only) that
# logs in from the iBFT with root-disk timeouts.
# shellcheck disable=SC2016 # $1 is mmdebstrap's hook argument (the chroot), expanded by its shell
essential_hook='set -e
  mkdir -p "$1/etc/iscsi" "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"
  echo ISCSI_AUTO=true >"$1/etc/iscsi/iscsi.initramfs"
  echo MODULES=list >"$1/etc/initramfs-tools/conf.d/bootherd"
  # The NICs (e1000: BIOS guests, virtio-net: UEFI guests), the disk and the root filesystem; open-iscsi adds its own.
  printf "%s\n" e1000 virtio_pci virtio_net sd_mod ext4 crc32c_generic >"$1/etc/initramfs-tools/modules.bootherd"
  printf "%s\n" "#!/bin/sh" "[ \"\$1\" = prereqs ] && exit 0" ". /usr/share/initramfs-tools/hook-functions" \
    "for m in \$(cat /etc/initramfs-tools/modules.bootherd); do force_load \$m; done" \
    >"$1/etc/initramfs-tools/hooks/bootherd-modules"
  chmod +x "$1/etc/initramfs-tools/hooks/bootherd-modules"
  cp '"$here"'/realos/iscsi-root-timeouts "$1/etc/initramfs-tools/hooks/"'

# After: the test OS, a root filesystem entry, the same timeouts for the running system's iscsid, and less weight
# (no firmware, sound, graphics or wireless modules: the root filesystem is copied into every image).
# shellcheck disable=SC2016
customize_hook='set -e
  install -m 755 '"$here"'/realos/bootherd-os "$1/usr/local/sbin/bootherd-os"
  install -m 644 '"$here"'/realos/bootherd-os.service "$1/etc/systemd/system/bootherd-os.service"
  chroot "$1" systemctl enable bootherd-os.service
  # No login prompts: nobody logs in, and a getty on ttyS0 would mix its prompt into the test lines.
  chroot "$1" systemctl mask serial-getty@ttyS0.service getty@tty1.service
  chroot "$1" sh -c "unmkinitramfs /boot/initrd.img-* /tmp/initrd &&
    grep -q \"iscsistart -b -P node.session.timeo.replacement_timeout=86400\" /tmp/initrd/scripts/local-top/iscsi &&
    rm -rf /tmp/initrd" || { echo "the initramfs logs in without the root-disk timeouts" >&2; exit 1; }
  echo "LABEL=bhroot / ext4 rw,noatime 0 1" >"$1/etc/fstab"
  echo bootherd-os >"$1/etc/hostname"
  sed -i -E -e "s/^(node.session.timeo.replacement_timeout) = .*/\1 = 86400/" \
    -e "s/^(node.conn\[0\].timeo.noop_out_(interval|timeout)) = .*/\1 = 0/" "$1/etc/iscsi/iscsid.conf"
  # Not the initramfs: the initramfs must be complete before anything is dropped.
  for d in sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging drivers/hid \
    drivers/bluetooth drivers/usb net/wireless net/mac80211 net/bluetooth; do
    rm -rf "$1"/usr/lib/modules/*/kernel/$d
  done
  chroot "$1" sh -c "depmod -a \$(ls /usr/lib/modules)"
  rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*'

mmdebstrap --variant=minbase --mode=root --format=directory \
  --include=linux-image-amd64,systemd-sysv,udev,kmod,initramfs-tools,open-iscsi,curl,e2fsprogs \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --essential-hook="$essential_hook" --customize-hook="$customize_hook" \
  "$suite" "$root" "${mirrors[@]}"

kernel=$(find "$root/boot" -name 'vmlinuz-*' | sort | tail -n 1)
initrd=$(find "$root/boot" -name 'initrd.img-*' | sort | tail -n 1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then
  echo "make_debian_disk: no kernel or initramfs in the tree" >&2
  exit 1
fi
cmdline="root=LABEL=bhroot rw console=ttyS0,115200 loglevel=4 systemd.show_status=error fsck.mode=skip"

# Root filesystem: everything up to the end of the disk.
root_sectors=$(((disk_mib * 2048) - root_start))
mkfs.ext4 -q -L bhroot -d "$root" "$work/root.ext4" $((root_sectors / 2))k

# Boot partition: kernel, initramfs, syslinux and GRUB. Hidden sectors = its start, as the boot sector needs.
truncate -s "${boot_mib}M" "$work/boot.fat"
mkfs.vfat -F 16 -n BHBOOT -h "$boot_start" "$work/boot.fat" >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$work/boot.fat" "$kernel" ::/vmlinuz
mcopy -i "$work/boot.fat" "$initrd" ::/initrd.img
cat >"$work/syslinux.cfg" <<EOF
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT debian
LABEL debian
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND $cmdline
EOF
mcopy -i "$work/boot.fat" "$work/syslinux.cfg" ::/syslinux.cfg
syslinux --install "$work/boot.fat"
cat >"$work/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_output serial
search --no-floppy --label BHBOOT --set=root
if linux /vmlinuz $cmdline; then
  if initrd /initrd.img; then boot; fi
fi
echo BOOTHERD-OS-BOOTLOADER-FAILED
halt
EOF
modules="normal serial terminal echo search search_label part_msdos fat linux boot halt"
grub-mkstandalone -O x86_64-efi -o "$work/BOOTX64.EFI" --modules="$modules" --install-modules="$modules" \
  --locales= --fonts= --themes= "boot/grub/grub.cfg=$work/grub.cfg"
mmd -i "$work/boot.fat" ::/EFI ::/EFI/BOOT
mcopy -i "$work/boot.fat" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# The disk: syslinux's MBR code, a partition table (1: FAT16 LBA, active; 2: Linux), the two partitions.
rm -f "$work/disk.img"
truncate -s "${disk_mib}M" "$work/disk.img"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$work/disk.img" bs=440 count=1 conv=notrunc status=none
/usr/bin/python3 - "$work/disk.img" "$boot_start" $((boot_mib * 2048)) "$root_start" "$root_sectors" <<'PY'
import struct, sys
path, b0, bn, r0, rn = sys.argv[1], *map(int, sys.argv[2:])
def entry(active, ptype, start, count):
    chs = b"\xfe\xff\xff"  # LBA only
    return struct.pack("<B3sB3sII", 0x80 if active else 0, chs, ptype, chs, start, count)
table = entry(True, 0x0E, b0, bn) + entry(False, 0x83, r0, rn) + bytes(32) + b"\x55\xaa"
with open(path, "r+b") as f:
    f.seek(446)
    f.write(table)
PY
dd if="$work/boot.fat" of="$work/disk.img" bs=1M seek=$((boot_start / 2048)) conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$work/disk.img" bs=1M seek=$((root_start / 2048)) conv=notrunc,sparse status=none

mkdir -p "$cache"
rm -f "$cache"/debian-"$suite"-*.img
mv "$work/disk.img" "$cached.tmp"
mv "$cached.tmp" "$cached"
cp --sparse=always "$cached" "$out"
echo "make_debian_disk: cached $cached" >&2
