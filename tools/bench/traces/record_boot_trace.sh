#!/usr/bin/env bash
# Records the disk I/O of one real PXE boot as a bootstorm trace ("OFFSET LENGTH r|w" in bytes).
#
# The boot is the one tests/boot/peer_boot.sh does: qemu (TCG) powers on a diskless PC inside a private network
# namespace, PXE -> DHCP (dnsmasq) -> TFTP -> iPXE -> sanboot iscsi: from tgt, and the test disk's boot code
# runs to its BOOTHERD-MARKER line. tgt's rdwr backing store turns every SCSI READ/WRITE into one pread64/pwrite64
# on the disk file at the same byte offset and length, so strace on tgtd, filtered to that file, is the
# initiator's I/O in order.
#
#   sudo tools/bench/traces/record_boot_trace.sh [--mode uefi|bios] [-o FILE]
#
# Default: --mode uefi (OVMF -> ipxe.efi -> sanboot of the GPT/FAT disk whose GRUB prints the marker), written to
# tools/bench/traces/pxe-boot-<mode>.trace. Needs the packages of tests/boot/peer_boot.sh, plus strace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=tests/boot/lib.sh
. "$root/tests/boot/lib.sh"
# shellcheck source=tests/boot/peer_lib.sh
. "$root/tests/boot/peer_lib.sh"

mode=uefi
out=""
while [ $# -gt 0 ]; do
  case $1 in
    --mode) mode=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $mode in
  uefi) marker='BOOTHERD-MARKER uefi' ;;
  bios) marker='BOOTHERD-MARKER boot=1' ;;
  *) boot_die "--mode must be uefi or bios" ;;
esac
out=${out:-$here/pxe-boot-$mode.trace}

boot_require ip qemu-system-x86_64 dnsmasq tgtd tgtadm strace
boot_setup $((RANDOM % 200 + 20))
disk=$BOOT_SCRATCH/$mode.img
"$root/tests/boot/make_${mode}_disk.sh" "$disk"
peer_prepare_tftp
boot_start_tgtd
# -f follows tgtd's backing-store worker threads, created when the LUN is added below; -y names each fd's file.
boot_spawn "$BOOT_SCRATCH/strace.log" strace -f -qq -y -s 0 -e trace=pread64,pwrite64 -e signal=none \
  -o "$BOOT_SCRATCH/io.strace" -p "$BOOT_TGTD_PID"
strace_pid=$BOOT_LAST_PID
sleep 1 # strace attaches before the first command reaches the disk
iqn=iqn.2026-11.org.bootherd:trace.$mode
boot_tgt_add 1 "$iqn" "$disk"
peer_start_dnsmasq
limit=300
[ "$mode" = uefi ] || limit=120
peer_boot "$mode" "$iqn" "$marker" "$limit" "$BOOT_SCRATCH/serial.log" ||
  { boot_show "$BOOT_SCRATCH/serial.log"; boot_die "the boot did not reach '$marker'"; }
boot_log "booted to '$BOOT_MARKER_LINE' in $BOOT_SECONDS s"
boot_kill "$strace_pid" # SIGTERM: strace detaches and flushes its output

# strace lines: "TID pread64(FD</path/disk.img>, ""..., LENGTH, OFFSET) = LENGTH"; only complete calls count.
awk -v disk="$disk" -v mode="$mode" -v seconds="$BOOT_SECONDS" '
  BEGIN { printf "# bootstorm trace: I/O of one real PXE boot (%s) of the tests/boot %s disk via iPXE sanboot\n", mode, mode
          printf "# recorded by tools/bench/traces/record_boot_trace.sh from tgtd (strace), boot took %s s under TCG\n", seconds
          print "# offset length r|w (bytes)" }
  index($0, "<" disk ">") && / = [0-9]+$/ {
    kind = ($0 ~ /pwrite64\(/) ? "w" : "r"
    line = $0
    sub(/\) = [0-9]+$/, "", line)
    n = split(line, f, ", ")
    if (f[n - 1] + 0 > 0) printf "%d %d %s\n", f[n], f[n - 1], kind
  }' "$BOOT_SCRATCH/io.strace" >"$out.new"
mv "$out.new" "$out"
ops=$(grep -vc '^#' "$out" || true)
[ "$ops" -gt 0 ] || boot_die "no I/O on $disk in the strace log (tgt backing store not rdwr?)"
boot_log "wrote $out: $ops commands, $(awk '!/^#/ { b += $2 } END { print b }' "$out") bytes"
