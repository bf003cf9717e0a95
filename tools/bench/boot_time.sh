#!/usr/bin/env bash
# Boot-time benchmark: boots the same disk image through bootherd and through the peer stack (dnsmasq + tgt) in
# one run, inside a private network namespace, and prints the seconds from power-on (qemu start) to the disk's
# marker line on the serial console for each boot. Run as root; needs the packages of tests/boot/peer_boot.sh.
#
#   tools/bench/boot_time.sh [--runs N] [--mode bios|uefi] [--disk IMG --marker REGEX] [--limit SECS]
#
# Default disk: the BIOS counter disk (tests/boot/make_bios_disk.sh), or the UEFI GRUB disk with --mode uefi.
# Every server boots its own fresh copy of the image. Environment: PEER_TRAPS, PEER_CHAIN_UNDIONLY (see
# tests/boot/peer_lib.sh), BOOTHERD (the bootherd binary), BOOTHERD_SERVE_ARGS (extra `bootherd serve` arguments).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/boot/lib.sh
. "$root/tests/boot/lib.sh"
# shellcheck source=tests/boot/peer_lib.sh
. "$root/tests/boot/peer_lib.sh"

runs=3
mode=bios
disk=""
marker=""
limit=300
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --disk) disk=$2; shift 2 ;;
    --marker) marker=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $mode in bios | uefi) ;; *) boot_die "--mode must be bios or uefi" ;; esac
if [ -n "$disk" ] && [ -z "$marker" ]; then boot_die "--disk needs --marker REGEX (the whole marker line)"; fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || boot_die "--runs must be a positive number"

boot_require ip qemu-system-x86_64 qemu-img dnsmasq tgtd tgtadm
boot_setup $((RANDOM % 200 + 20))
if [ -z "$disk" ]; then
  disk=$BOOT_SCRATCH/golden.img
  if [ "$mode" = bios ]; then
    "$root/tests/boot/make_bios_disk.sh" "$disk"
    marker='BOOTHERD-MARKER boot=[0-9]+'
  else
    "$root/tests/boot/make_uefi_disk.sh" "$disk"
    marker='BOOTHERD-MARKER uefi'
  fi
fi
[ -r "$disk" ] || boot_die "cannot read $disk"
peer_prepare_tftp
iqn=iqn.2026-11.org.bootherd:bench.boot

RESULTS=()

# measure SERVER: boots `runs` times against whatever server is up now and records the seconds of each boot.
measure() {
  local server=$1 run log
  for run in $(seq "$runs"); do
    log=$BOOT_SCRATCH/serial-$server-$run.log
    if peer_boot "$mode" "$iqn" "$marker" "$limit" "$log"; then
      printf '%-12s run %d: %6.2f s  (%s)\n' "$server" "$run" "$BOOT_SECONDS" "$BOOT_MARKER_LINE"
      RESULTS+=("$server $BOOT_SECONDS")
    else
      printf '%-12s run %d: no marker (got "%s")\n' "$server" "$run" "${BOOT_MARKER_LINE:-nothing}"
      boot_show "$log" 20
      RESULTS+=("$server failed")
    fi
  done
}

# The peer half: dnsmasq (DHCP + TFTP) and tgt (iSCSI) serve a copy of the disk.
bench_peer() {
  cp --sparse=always "$disk" "$BOOT_SCRATCH/peer.img"
  boot_start_tgtd
  boot_tgt_add 1 "$iqn" "$BOOT_SCRATCH/peer.img"
  peer_start_dnsmasq
  measure dnsmasq+tgt
  boot_kill "$PEER_DNSMASQ_PID"
  boot_kill "$BOOT_TGTD_PID"
}

# ---- bootherd half -------------------------------------------------------------------------------------------
# `bootherd serve --dhcp full` alone (DHCP, TFTP, boot script, iSCSI) boots the same disk, converted to VHDX and
# imported as an image, as a persistent node of the guest's MAC, so every run boots the same kind of disk as the
# peer's (the counter goes up like on tgt's file). Extra serve arguments: BOOTHERD_SERVE_ARGS.
bench_bootherd() {
  local bin=${BOOTHERD:-$root/build/release/tools/bootherd/bootherd}
  if [ ! -x "$bin" ]; then
    echo "bootherd     not available ($bin; set BOOTHERD)"
    return 0
  fi
  # shellcheck source=tests/boot/bootherd_lib.sh
  . "$root/tests/boot/bootherd_lib.sh"
  local run log
  bh_init "$bin" "$BOOT_SCRATCH/bootherd-data"
  qemu-img convert -f raw -O vhdx "$disk" "$BOOT_SCRATCH/bootherd.vhdx"
  bh_cli image import bench "$BOOT_SCRATCH/bootherd.vhdx" >/dev/null
  local mac=52:54:00:be:00:01
  bh_cli node add bench --mac "$mac" --image bench --persistent >/dev/null
  # shellcheck disable=SC2086 # BOOTHERD_SERVE_ARGS is a word list on purpose
  bh_start_serve "$BOOT_SCRATCH/bootherd.log" --dhcp full \
    --dhcp-range "$BOOT_SUBNET_PREFIX.100-$BOOT_SUBNET_PREFIX.199" ${BOOTHERD_SERVE_ARGS:-}
  for run in $(seq "$runs"); do
    log=$BOOT_SCRATCH/serial-bootherd-$run.log
    if bh_boot "$mode" "$mac" "$marker" "$limit" "$log"; then
      printf '%-12s run %d: %6.2f s  (%s)\n' bootherd "$run" "$BOOT_SECONDS" "$BOOT_MARKER_LINE"
      RESULTS+=("bootherd $BOOT_SECONDS")
    else
      printf '%-12s run %d: no marker (got "%s")\n' bootherd "$run" "${BOOT_MARKER_LINE:-nothing}"
      boot_show "$log" 20
      RESULTS+=("bootherd failed")
    fi
  done
  bh_stop_serve
}
# --------------------------------------------------------------------------------------------------------------

echo "boot_time: mode $mode, $runs run(s) per server, disk $(basename "$disk"), marker /$marker/"
bench_peer
bench_bootherd

echo "summary (seconds from power-on to marker):"
for server in dnsmasq+tgt bootherd; do
  times=$(printf '%s\n' "${RESULTS[@]}" | awk -v s="$server" '$1 == s && $2 != "failed" { print $2 }' | sort -n)
  bad=$(printf '%s\n' "${RESULTS[@]}" | awk -v s="$server" '$1 == s && $2 == "failed"' | wc -l)
  [ -n "$times" ] || [ "$bad" -gt 0 ] || continue
  if [ -z "$times" ]; then
    printf '  %-12s all %d boots failed\n' "$server" "$bad"
    continue
  fi
  awk -v s="$server" -v bad="$bad" '{ t[NR] = $1; sum += $1 }
    END { printf "  %-12s min %.2f  median %.2f  mean %.2f  max %.2f  (%d ok, %d failed)\n",
                 s, t[1], t[int((NR + 1) / 2)], sum / NR, t[NR], NR, bad }' <<<"$times"
done
if printf '%s\n' "${RESULTS[@]}" | grep -q ' failed$'; then exit 1; fi
