#!/usr/bin/env bash
# Boot-time benchmark: boots the same disk image through bootherd and through the peer stack (dnsmasq + tgt) in
# one run, inside a private network namespace, and prints the seconds from power-on (qemu start) to the disk's
# marker line on the serial console for each boot. Run as root; needs the packages of tests/boot/peer_boot.sh.
#
#   tools/bench/boot_time.sh [--runs N] [--mode bios|uefi] [--disk IMG --marker REGEX] [--limit SECS]
#
# Default disk: the BIOS counter disk (tests/boot/make_bios_disk.sh), or the UEFI GRUB disk with --mode uefi.
# Every server boots its own fresh copy of the image. Environment: PEER_TRAPS, PEER_CHAIN_UNDIONLY (see
# tests/boot/peer_lib.sh), BOOTHERD (the bootherd binary), BOOTHERD_SERVE_ARGS (see bench_bootherd).
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

boot_require ip qemu-system-x86_64 dnsmasq tgtd tgtadm
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
# Not wired up yet: `bootherd serve --dhcp full|proxy --interface IF` is being built. This checks whether the
# binary has `serve`; the arguments that make it serve one disk as $iqn are not fixed yet, so they come from
# BOOTHERD_SERVE_ARGS ({disk} and {iqn} are replaced), e.g.
#   BOOTHERD_SERVE_ARGS='serve --dhcp full --interface br0 ...'
# Once the serve CLI is settled, put its real arguments here instead.
bench_bootherd() {
  local bin=${BOOTHERD:-$root/build/release/tools/bootherd/bootherd}
  if [ ! -x "$bin" ] || ! "$bin" serve --help >/dev/null 2>&1; then
    echo "bootherd     bootherd serve not available yet ($bin)"
    return 0
  fi
  if [ -z "${BOOTHERD_SERVE_ARGS:-}" ]; then
    echo "bootherd     $bin has 'serve', but this benchmark does not know its disk arguments yet:" \
      "set BOOTHERD_SERVE_ARGS"
    return 0
  fi
  cp --sparse=always "$disk" "$BOOT_SCRATCH/bootherd.img"
  local serve_args=${BOOTHERD_SERVE_ARGS//\{disk\}/$BOOT_SCRATCH/bootherd.img}
  serve_args=${serve_args//\{iqn\}/$iqn}
  # The boot script is served by bootherd itself; the TFTP folder here is only used by the peer half.
  # shellcheck disable=SC2086 # BOOTHERD_SERVE_ARGS is a word list on purpose
  boot_spawn "$BOOT_SCRATCH/bootherd.log" "$bin" $serve_args
  local pid=$BOOT_LAST_PID
  sleep 1
  kill -0 "$pid" 2>/dev/null || { boot_show "$BOOT_SCRATCH/bootherd.log"; boot_die "bootherd serve exited"; }
  measure bootherd
  boot_kill "$pid"
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
