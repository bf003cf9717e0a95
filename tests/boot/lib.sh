# shellcheck shell=bash disable=SC2034 # the BOOT_* variables set here are outputs for the sourcing script
# Helpers for the real network-boot tests (sourced, as root). Each test gets its own network namespace holding a
# bridge (br0) with the server address and a tap (tap0) for the qemu guest: the servers and the guest only ever
# see that private L2 segment, nothing is routed, and no packet leaves the namespace. Everything started here is
# killed, and the namespace and scratch directory are deleted, on exit.
#
#   boot_setup N         creates the namespace with 10.99.N.1/24 on br0; sets BOOT_NS, BOOT_SERVER_IP, BOOT_SCRATCH
#   boot_spawn LOG CMD…  runs CMD in the namespace in the background (stdout+stderr to LOG); sets BOOT_LAST_PID
#   boot_wait_log LOG REGEX PID WHAT  waits until a server started that way logs REGEX (it is up)
#   boot_dnsmasq_dhcp FIRST  prints the dnsmasq lines every test uses (no DNS; DHCP on br0 from .FIRST to .199)
#   boot_start_tgtd      tgtd on BOOT_SERVER_IP:3260;  boot_tgt_add TID IQN FILE  serves FILE as LUN 1 of IQN
#   boot_add_tap NAME    a second (third, ...) tap on br0, for guests running at once
#   boot_start_qemu bios|uefi LOG [MAC]  powers on a diskless guest that network-boots (random MAC by default;
#                        BOOT_QEMU_MEM MiB, default 256; on tap BOOT_QEMU_TAP, default tap0); sets BOOT_QEMU_PID,
#                        BOOT_QEMU_T0
#   boot_wait_marker LOG REGEX SECS   waits for a serial line matching REGEX; sets BOOT_MARKER_LINE, BOOT_SECONDS
#   boot_stop_qemu       stops the guest (if it has not powered itself off);  boot_kill PID  stops one process
#   pass TEXT / fail TEXT  prints a case's result and counts it in `passed` / `failed`
set -euo pipefail

LC_NUMERIC=C # EPOCHREALTIME and awk must agree on the decimal point
BOOT_PIDS=()
BOOT_NS=""
BOOT_SCRATCH=""
BOOT_TGT_CTL=""
BOOT_QEMU_PID=""
BOOT_QEMU_T0=""
BOOT_QEMU_ACCEL=${BOOT_QEMU_ACCEL:-tcg}
BOOT_OVMF=${BOOT_OVMF:-/usr/share/qemu/OVMF.fd}
BOOT_QEMU_MEM=${BOOT_QEMU_MEM:-256} # MiB of guest memory
BOOT_QEMU_TAP=${BOOT_QEMU_TAP:-tap0}

passed=0
failed=0
pass() {
  passed=$((passed + 1))
  echo "ok: $*"
}
fail() {
  failed=$((failed + 1))
  echo "FAILED: $*"
}

boot_log() { echo "[boot $(date -u +%H:%M:%S)] $*" >&2; }
boot_die() {
  echo "FAIL: $*" >&2
  exit 1
}

# Exits 77 (the conventional "skipped") unless running as root with every named command present.
boot_require() {
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: boot tests need root (network namespaces, tap, tgtd)" >&2; exit 77; }
  local cmd missing=()
  for cmd in "$@"; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "SKIP: missing commands: ${missing[*]}" >&2
    exit 77
  fi
}

boot_cleanup() {
  local pid i
  # Reverse order: the guest first, then the servers.
  for ((i = ${#BOOT_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${BOOT_PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.2
  # tgtd ignores SIGTERM while it has targets.
  for pid in "${BOOT_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$BOOT_NS" ]; then
    # Anything else still inside our own namespace was started by this test.
    for pid in $(ip netns pids "$BOOT_NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  wait 2>/dev/null || true
  [ -z "$BOOT_NS" ] || ip netns del "$BOOT_NS" 2>/dev/null || true
  [ -z "$BOOT_TGT_CTL" ] || rm -f "/var/run/tgtd/socket.$BOOT_TGT_CTL" "/var/run/tgtd/socket.$BOOT_TGT_CTL.lock"
  [ -z "$BOOT_SCRATCH" ] || [ -n "${BOOT_KEEP:-}" ] || rm -rf "$BOOT_SCRATCH"
  [ -z "${BOOT_KEEP:-}" ] || boot_log "kept $BOOT_SCRATCH"
}

# boot_setup N: namespace with br0 (10.99.N.1/24, plus fd99:N::1/64 for router advertisements) and tap0 on it.
boot_setup() {
  local n=$1
  BOOT_SCRATCH=$(mktemp -d /tmp/bootherd-boot.XXXXXX)
  BOOT_NS="bh-boot-$$-$n"
  trap boot_cleanup EXIT
  trap 'exit 130' INT TERM
  BOOT_SERVER_IP="10.99.$n.1"
  BOOT_SUBNET_PREFIX="10.99.$n"
  BOOT_SERVER_IP6="fd99:$n::1"
  ip netns add "$BOOT_NS"
  ip -n "$BOOT_NS" link set lo up
  ip -n "$BOOT_NS" link add br0 type bridge
  # No STP listening/learning delay: the guest's first DHCPDISCOVER must get through.
  ip -n "$BOOT_NS" link set br0 type bridge forward_delay 0 stp_state 0
  ip -n "$BOOT_NS" tuntap add tap0 mode tap
  ip -n "$BOOT_NS" link set tap0 master br0
  ip -n "$BOOT_NS" addr add "$BOOT_SERVER_IP/24" dev br0
  ip -n "$BOOT_NS" -6 addr add "$BOOT_SERVER_IP6/64" dev br0 nodad
  ip -n "$BOOT_NS" link set tap0 up
  ip -n "$BOOT_NS" link set br0 up
  boot_log "namespace $BOOT_NS: br0 $BOOT_SERVER_IP/24, scratch $BOOT_SCRATCH"
}

# boot_add_tap NAME: one more tap on the namespace's bridge (one guest per tap).
boot_add_tap() {
  ip -n "$BOOT_NS" tuntap add "$1" mode tap
  ip -n "$BOOT_NS" link set "$1" master br0
  ip -n "$BOOT_NS" link set "$1" up
}

# boot_spawn LOG CMD...: CMD runs inside the namespace (ip netns exec replaces itself, so the pid is CMD's).
boot_spawn() {
  local log=$1
  shift
  : >"$log" # exists before this returns, for readers
  ip netns exec "$BOOT_NS" "$@" </dev/null >>"$log" 2>&1 &
  BOOT_LAST_PID=$!
  BOOT_PIDS+=("$BOOT_LAST_PID")
}

# boot_wait_log LOG REGEX PID WHAT: waits up to 10 s for a line matching REGEX in LOG, which server WHAT (pid PID)
# writes once it is ready; fails the test, showing LOG, if WHAT exits first or the time runs out.
boot_wait_log() {
  local log=$1 regex=$2 pid=$3 what=$4 _
  for _ in $(seq 100); do
    grep -q "$regex" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { boot_show "$log"; boot_die "$what exited"; }
    sleep 0.1
  done
  boot_show "$log"
  boot_die "$what did not start"
}

# boot_dnsmasq_dhcp FIRST: the start of every test's dnsmasq configuration: no DNS, DHCP on br0 only, addresses
# .FIRST to .199 of the namespace's subnet, leases in the scratch folder.
boot_dnsmasq_dhcp() {
  cat <<EOF
port=0
interface=br0
bind-interfaces
user=root
log-dhcp
log-facility=-
dhcp-range=$BOOT_SUBNET_PREFIX.$1,$BOOT_SUBNET_PREFIX.199,255.255.255.0,10m
dhcp-leasefile=$BOOT_SCRATCH/dnsmasq.leases
EOF
}

# boot_start_tgtd: tgtd listening on the namespace's server address only (port 3260); targets are added with
# boot_tgt_add; sets BOOT_TGTD_PID. Its control socket is private to this test (-C with a random number).
boot_start_tgtd() {
  BOOT_TGT_CTL=$((1000 + RANDOM % 8000))
  boot_spawn "$BOOT_SCRATCH/tgtd.log" tgtd -f -C "$BOOT_TGT_CTL" --iscsi "portal=$BOOT_SERVER_IP:3260"
  BOOT_TGTD_PID=$BOOT_LAST_PID
  local pid=$BOOT_LAST_PID i
  for i in $(seq 100); do
    tgtadm -C "$BOOT_TGT_CTL" --lld iscsi --op show --mode target >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { boot_show "$BOOT_SCRATCH/tgtd.log"; boot_die "tgtd exited"; }
    sleep 0.1
  done
  boot_die "tgtd did not start"
}

# boot_tgt_add TID IQN FILE: FILE as LUN 1 of target IQN (tgt keeps LUN 0 for its controller), open to all.
boot_tgt_add() {
  local tid=$1 iqn=$2 file=$3
  tgtadm -C "$BOOT_TGT_CTL" --lld iscsi --op new --mode target --tid "$tid" -T "$iqn"
  tgtadm -C "$BOOT_TGT_CTL" --lld iscsi --op new --mode logicalunit --tid "$tid" --lun 1 -b "$file"
  tgtadm -C "$BOOT_TGT_CTL" --lld iscsi --op bind --mode target --tid "$tid" -I ALL
}

# boot_start_qemu bios|uefi LOG [MAC]: a diskless guest on BOOT_QEMU_TAP (tap0) that boots from the network; serial (COM1) goes to LOG.
# BIOS: SeaBIOS + the iPXE PXE ROM of the e1000. UEFI: OVMF's native PXE on virtio-net.
boot_start_qemu() {
  local mode=$1 log=$2 mac=${3:-}
  [ -n "$mac" ] || mac=$(printf '52:54:00:99:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)))
  # shellcheck disable=SC2054 # the commas belong to qemu option values
  local args=(qemu-system-x86_64 -accel "$BOOT_QEMU_ACCEL" -machine pc -m "$BOOT_QEMU_MEM" -nographic -no-reboot
    -netdev "tap,id=n0,ifname=$BOOT_QEMU_TAP,script=no,downscript=no" -boot n)
  case $mode in
    bios) args+=(-device "e1000,netdev=n0,mac=$mac,romfile=/usr/lib/ipxe/qemu/pxe-e1000.rom") ;;
    # virtio-net without an option ROM: OVMF's own driver and PXE client do the first DHCP + TFTP, like a
    # vendor UEFI PXE stack (the iPXE EFI ROM would skip the ipxe.efi stage).
    uefi) args+=(-bios "$BOOT_OVMF" -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=") ;;
    *) boot_die "boot_start_qemu: mode must be bios or uefi" ;;
  esac
  BOOT_QEMU_T0=$EPOCHREALTIME
  boot_spawn "$log" "${args[@]}"
  BOOT_QEMU_PID=$BOOT_LAST_PID
}

# boot_wait_marker LOG REGEX SECS: 0 once a line matches (BOOT_SECONDS = seconds since power-on), 1 on timeout or
# when the guest stops first. Reads the log incrementally with shell builtins: polling it with external tools
# would take CPU from the TCG guest and skew the timings.
boot_wait_marker() {
  local log=$1 regex=$2 limit=$3
  local deadline=$((${EPOCHREALTIME%.*} + limit)) fd line="" chunk now
  BOOT_MARKER_LINE=""
  BOOT_SECONDS=""
  exec {fd}<"$log"
  while :; do
    # A read that hits the end of the file returns non-zero with the partial line read so far.
    while IFS= read -r -u "$fd" chunk; do
      line+=$chunk
      if [[ $line =~ ($regex) ]]; then break 2; fi
      line=""
    done
    # A partial line is kept, not matched: "BOOTHERD-MARKER boot=" may be there before its number.
    line+=$chunk
    now=$EPOCHREALTIME
    if ! kill -0 "$BOOT_QEMU_PID" 2>/dev/null; then
      # The guest may have written the marker just before powering off: read to the end once more.
      while IFS= read -r -u "$fd" chunk || [ -n "$chunk" ]; do
        line+=$chunk
        if [[ $line =~ ($regex) ]]; then break 2; fi
        line=""
      done
      exec {fd}<&-
      boot_log "guest stopped without the marker"
      return 1
    fi
    if [ "${now%.*}" -ge "$deadline" ]; then
      exec {fd}<&-
      boot_log "no marker after ${limit}s"
      return 1
    fi
    sleep 0.05
  done
  now=$EPOCHREALTIME
  exec {fd}<&-
  BOOT_MARKER_LINE=${BASH_REMATCH[1]}
  BOOT_SECONDS=$(awk -v a="$BOOT_QEMU_T0" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
}

# boot_kill PID: stops one process started with boot_spawn (SIGKILL after 2 s; tgtd ignores SIGTERM).
boot_kill() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Stops the guest and waits for it (it usually has powered itself off already).
boot_stop_qemu() {
  [ -n "$BOOT_QEMU_PID" ] || return 0
  local i
  for i in $(seq 20); do
    kill -0 "$BOOT_QEMU_PID" 2>/dev/null || break
    sleep 0.1
  done
  boot_kill "$BOOT_QEMU_PID"
  BOOT_QEMU_PID=""
}

# Prints the last lines of a log (for failures), without terminal escapes.
boot_show() {
  echo "---- $1 (tail)" >&2
  tail -n "${2:-40}" "$1" | sed -E 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tr -d '\r' >&2
}
