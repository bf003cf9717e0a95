# shellcheck shell=bash disable=SC2034 # SEC_* variables set here are outputs for the sourcing script
# Shared helpers for the attack suite (sourced, as root). Everything runs on 127.0.0.1 with ephemeral ports, or
# inside network namespaces made here (10.97.N.0/24, never routed anywhere); every process started here is
# killed and every namespace deleted on exit.
#
#   sec_data DIR              a fresh data directory under the scratch directory; prints its path
#   sec_cli DATA ARGS...      `bootherd ARGS... --data DATA`
#   sec_node_field DATA NODE KEY  one key=value line of `node show NODE` (target, initiator, chap_secret, ...)
#   sec_serve DATA LOG ARGS...  `bootherd serve` on 127.0.0.1 (iSCSI and HTTP on ephemeral ports) unless ARGS
#                             give --listen/--listen-http; waits until it listens; sets SEC_SERVE_PID,
#                             SEC_HTTP_PORT, SEC_ISCSI_PORT
#   sec_wait_log LOG REGEX PID WHAT  waits until process PID logs REGEX (it is up); dies if it exits or takes 30 s
#   sec_stop PID              SIGTERM, wait; returns the exit status
#   sec_lan N                 namespace SEC_NS with bridge br0 holding SEC_SERVER_IP=10.97.N.1/24
#   sec_host NAME IP [MAC]    a host namespace "$SEC_NS-NAME" plugged into br0 with IP/24 (and MAC); prints the
#                             namespace name. Run a client there with `ip netns exec NS CMD`
#   sec_admin_password DATA   the first admin password, from DATA/initial-admin-password
set -euo pipefail

: "${BOOTHERD:?set BOOTHERD to the bootherd binary}"
SEC_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SEC_SCRATCH=$(mktemp -d /tmp/bootherd-sec.XXXXXX)
SEC_PIDS=()
SEC_NAMESPACES=()

sec_cleanup() {
  local pid ns
  for pid in "${SEC_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for ns in "${SEC_NAMESPACES[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  wait 2>/dev/null || true
  for ns in "${SEC_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  [ -n "${SEC_KEEP:-}" ] && echo "kept $SEC_SCRATCH" >&2 || rm -rf "$SEC_SCRATCH"
}
trap sec_cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sec_require_root() {
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
}

sec_data() {
  local dir=$SEC_SCRATCH/$1
  mkdir -p "$dir"
  echo "$dir"
}

sec_cli() {
  local data=$1
  shift
  "$BOOTHERD" "$@" --data "$data"
}

# sec_node_field DATA NODE KEY: one key=value line of `node show NODE` (target, initiator, chap_secret, ...).
sec_node_field() {
  sec_cli "$1" node show "$2" | sed -n "s/^$3=//p"
}

sec_serve() {
  local data=$1 log=$2
  shift 2
  local args=("$@") listen=(--listen 127.0.0.1:0) http=(--listen-http 127.0.0.1:0) a
  for a in "${args[@]}"; do
    [ "$a" = --listen ] && listen=()
    [ "$a" = --listen-http ] || [ "$a" = --no-http ] && http=()
  done
  "$BOOTHERD" serve --data "$data" "${listen[@]}" "${http[@]}" "${args[@]}" >"$log" 2>&1 &
  SEC_SERVE_PID=$!
  SEC_PIDS+=("$SEC_SERVE_PID")
  local i
  for i in $(seq 300); do
    SEC_ISCSI_PORT=$(grep -oE 'serving .* on [0-9.]+:[0-9]+' "$log" | head -n 1 | grep -oE '[0-9]+$' || true)
    SEC_HTTP_PORT=$(grep -oE 'web on [0-9.]+:[0-9]+' "$log" | head -n 1 | grep -oE '[0-9]+$' || true)
    if [ -n "$SEC_ISCSI_PORT" ] && { [ ${#http[@]} -eq 0 ] || [ -n "$SEC_HTTP_PORT" ]; }; then return 0; fi
    kill -0 "$SEC_SERVE_PID" 2>/dev/null || { cat "$log"; die "bootherd serve exited"; }
    sleep 0.1
  done
  cat "$log"
  die "bootherd serve did not start"
}

sec_wait_log() {
  local log=$1 regex=$2 pid=$3 what=$4 i
  for i in $(seq 300); do
    grep -qE "$regex" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; die "$what exited"; }
    sleep 0.1
  done
  cat "$log"
  die "$what did not start"
}

sec_stop() {
  kill -TERM "$1" 2>/dev/null || true
  local rc=0
  wait "$1" || rc=$?
  return "$rc"
}

sec_lan() {
  local n=$1
  SEC_NS="bh-sec-$$-$n"
  SEC_SERVER_IP="10.97.$n.1"
  SEC_NAMESPACES+=("$SEC_NS")
  ip netns add "$SEC_NS"
  ip -n "$SEC_NS" link set lo up
  ip -n "$SEC_NS" link add br0 type bridge
  ip -n "$SEC_NS" link set br0 type bridge forward_delay 0 stp_state 0
  ip -n "$SEC_NS" addr add "$SEC_SERVER_IP/24" dev br0
  ip -n "$SEC_NS" link set br0 up
}

sec_host() {
  local name=$1 ip=$2 mac=${3:-}
  local ns="$SEC_NS-$name" port="v${name:0:8}$((${#SEC_NAMESPACES[@]}))"
  SEC_NAMESPACES+=("$ns")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$SEC_NS" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$SEC_NS" link set "$port" master br0
  ip -n "$SEC_NS" link set "$port" up
  [ -z "$mac" ] || ip -n "$ns" link set eth0 address "$mac"
  [ -z "$ip" ] || ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  echo "$ns"
}

# The server writes the first admin password to this 0600 file (never to its log).
sec_admin_password() {
  local file=$1/initial-admin-password
  [ -r "$file" ] || die "no $file"
  head -n 1 "$file"
}
