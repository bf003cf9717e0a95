#!/usr/bin/env bash
# Real PXE boot against the peer stack, inside a private network namespace: qemu (TCG) powers on a diskless PC
# that boots PXE -> DHCP (dnsmasq) -> TFTP -> iPXE -> sanboot iscsi: (tgt) and runs the test disk's boot code.
#   BIOS: boot 1 must print "BOOTHERD-MARKER boot=1", boot 2 of the same (persistent) disk "boot=2".
#   UEFI: OVMF -> ipxe.efi -> sanboot of a GPT disk whose \EFI\BOOT\BOOTX64.EFI prints "BOOTHERD-MARKER uefi"
#         (skipped when the UEFI packages are missing, or with PEER_UEFI=0).
# Prints the seconds from qemu start to the marker for each boot. Run as root. Exits 77 if it cannot run here.
# Environment: PEER_TRAPS=fixed|default (see peer_lib.sh), PEER_CHAIN_UNDIONLY=1|0, BOOT_KEEP=1 keeps the logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/boot/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/boot/peer_lib.sh
. "$here/peer_lib.sh"

BIOS_LIMIT=${BIOS_LIMIT:-120}
UEFI_LIMIT=${UEFI_LIMIT:-300}
boot_require ip qemu-system-x86_64 dnsmasq tgtd tgtadm nasm
for f in /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/qemu/pxe-e1000.rom; do
  [ -r "$f" ] || { echo "SKIP: $f missing (packages ipxe, ipxe-qemu)" >&2; exit 77; }
done

passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $name: '$BOOT_MARKER_LINE' after $BOOT_SECONDS s"
  else
    failed=$((failed + 1))
    echo "FAILED: $name: got '${BOOT_MARKER_LINE:-no marker}'"
    boot_show "$BOOT_SCRATCH/serial-$name.log" 30
  fi
}

boot_setup $((RANDOM % 200 + 20))
"$here/make_bios_disk.sh" "$BOOT_SCRATCH/bios.img"
peer_prepare_tftp
boot_start_tgtd
bios_iqn=iqn.2026-11.org.bootherd:test.bios
boot_tgt_add 1 "$bios_iqn" "$BOOT_SCRATCH/bios.img"
peer_start_dnsmasq
echo "peer stack: dnsmasq (traps $PEER_TRAPS, undionly chain $PEER_CHAIN_UNDIONLY) + tgt on $BOOT_SERVER_IP"

check bios-boot1 peer_boot bios "$bios_iqn" 'BOOTHERD-MARKER boot=1' "$BIOS_LIMIT" "$BOOT_SCRATCH/serial-bios-boot1.log"
check bios-boot2 peer_boot bios "$bios_iqn" 'BOOTHERD-MARKER boot=2' "$BIOS_LIMIT" "$BOOT_SCRATCH/serial-bios-boot2.log"

# The server side must agree: the counter the guest wrote through INT 13h -> iSCSI is in tgt's backing file.
# Layout (bios_counter.asm): LBA 1 = 16-byte magic "BOOTHERD-COUNTER", then the count as a little-endian u32.
magic=$(dd if="$BOOT_SCRATCH/bios.img" bs=1 skip=512 count=16 status=none)
count=$(od -An -tu4 -j 528 -N 4 "$BOOT_SCRATCH/bios.img" | tr -d ' ')
if [ "$magic" = BOOTHERD-COUNTER ] && [ "$count" = 2 ]; then
  passed=$((passed + 1))
  echo "ok: bios-counter: tgt's backing file holds boot count $count"
else
  failed=$((failed + 1))
  echo "FAILED: bios-counter: backing file has magic '$magic', count '$count' (want 2)"
fi

if [ "${PEER_UEFI:-1}" = 1 ]; then
  uefi_rc=0
  [ -r "$BOOT_OVMF" ] || uefi_rc=77
  [ "$uefi_rc" -ne 0 ] || "$here/make_uefi_disk.sh" "$BOOT_SCRATCH/uefi.img" || uefi_rc=$?
  if [ "$uefi_rc" -eq 0 ]; then
    uefi_iqn=iqn.2026-11.org.bootherd:test.uefi
    boot_tgt_add 2 "$uefi_iqn" "$BOOT_SCRATCH/uefi.img"
    check uefi-boot peer_boot uefi "$uefi_iqn" 'BOOTHERD-MARKER uefi' "$UEFI_LIMIT" "$BOOT_SCRATCH/serial-uefi-boot.log"
  elif [ "$uefi_rc" -eq 77 ]; then
    echo "skip: uefi-boot (OVMF or UEFI disk packages missing)"
  else
    failed=$((failed + 1))
    echo "FAILED: uefi-boot: make_uefi_disk.sh exited $uefi_rc"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
