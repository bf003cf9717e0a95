# shellcheck shell=bash disable=SC2034 # BH_* variables set here are outputs for the sourcing script
# bootherd as the boot server (sourced after lib.sh, inside a namespace made by boot_setup).
#
#   bh_init BOOTHERD DATA      the binary and a fresh data directory; BH_BIN, BH_DATA
#   bh_cli ARGS...             runs `bootherd ARGS... --data DATA` (the CLI next to a running server)
#   bh_import_bios NAME        builds the BIOS counter disk (make_bios_disk.sh), converts it to VHDX with qemu-img
#                              and imports it as image NAME
#   bh_start_serve LOG ARGS... `bootherd serve` in the namespace on br0, iSCSI on BOOT_SERVER_IP:3260, the web UI
#                              and API on BH_HTTP (ADDR:PORT) if set, else none; waits until TFTP is up; sets BH_SERVE_PID
#   bh_stop_serve              SIGTERM (graceful stop) and wait
#   bh_boot MODE MAC REGEX SECS LOG   powers on a MODE guest with MAC, waits for its marker, checks it against REGEX
#   bh_events MAC              the event kinds recorded for MAC, oldest first, one a line
#   bh_api GET|POST PATH       the REST API on BH_HTTP as admin (the initial password), from the namespace
#   bh_host NAME MAC IP        a second host on br0 (namespace BH_HOST_NS, veth, MAC and IP/24) standing in for a
#                              powered-off machine at its own address; removed on exit
#   bh_host_remove             removes it now
BH_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BH_BIN=""
BH_DATA=""
BH_SERVE_PID=""
BH_HOST_NS=""
BH_HTTP=${BH_HTTP:-}

bh_init() {
  BH_BIN=$1
  BH_DATA=$2
  [ -x "$BH_BIN" ] || boot_die "bootherd binary '$BH_BIN' not found"
  mkdir -p "$BH_DATA"
}

bh_cli() { "$BH_BIN" "$@" --data "$BH_DATA"; }

bh_import_bios() {
  local name=$1
  "$BH_TESTS_DIR/make_bios_disk.sh" "$BOOT_SCRATCH/$name.img"
  qemu-img convert -f raw -O vhdx "$BOOT_SCRATCH/$name.img" "$BOOT_SCRATCH/$name.vhdx"
  bh_cli image import "$name" "$BOOT_SCRATCH/$name.vhdx" >/dev/null
}

bh_start_serve() {
  local log=$1
  shift
  local http=(--no-http)
  [ -z "$BH_HTTP" ] || http=(--listen-http "$BH_HTTP")
  boot_spawn "$log" "$BH_BIN" serve --data "$BH_DATA" --listen "$BOOT_SERVER_IP:3260" "${http[@]}" \
    --interface br0 "$@"
  BH_SERVE_PID=$BOOT_LAST_PID
  boot_wait_log "$log" 'tftp: serving' "$BH_SERVE_PID" "bootherd serve"
}

bh_stop_serve() {
  [ -n "$BH_SERVE_PID" ] || return 0
  boot_kill "$BH_SERVE_PID"
  BH_SERVE_PID=""
}

bh_boot() {
  local mode=$1 mac=$2 regex=$3 limit=$4 log=$5
  boot_start_qemu "$mode" "$log" "$mac"
  local rc=0
  boot_wait_marker "$log" 'BOOTHERD-MARKER [a-z0-9=-]+' "$limit" || rc=1
  boot_stop_qemu
  [ "$rc" -eq 0 ] || return 1
  [[ $BOOT_MARKER_LINE =~ ^$regex$ ]]
}

bh_events() {
  sqlite3 "file:$BH_DATA/catalog.db?mode=ro" "SELECT kind FROM events WHERE mac = '$1' ORDER BY id"
}

BH_API_JAR=""
bh_api() {
  if [ -z "$BH_API_JAR" ]; then
    BH_API_JAR=$BOOT_SCRATCH/api.cookies
    local password
    password=$(cat "$BH_DATA/initial-admin-password")
    ip netns exec "$BOOT_NS" curl -fsS -c "$BH_API_JAR" -H 'Content-Type: application/json' \
      -d "{\"username\":\"admin\",\"password\":\"$password\"}" "http://$BH_HTTP/api/v1/login" >/dev/null
  fi
  ip netns exec "$BOOT_NS" curl -fsS -b "$BH_API_JAR" -X "$1" "http://$BH_HTTP$2"
}

bh_host() {
  local name=$1 mac=$2 ip=$3
  BH_HOST_NS="$BOOT_NS-$name"
  ip netns add "$BH_HOST_NS"
  trap 'ip netns del "$BH_HOST_NS" 2>/dev/null || true; boot_cleanup' EXIT
  ip -n "$BH_HOST_NS" link set lo up
  ip -n "$BOOT_NS" link add "h$name" type veth peer name eth0 netns "$BH_HOST_NS"
  ip -n "$BOOT_NS" link set "h$name" master br0
  ip -n "$BOOT_NS" link set "h$name" up
  ip -n "$BH_HOST_NS" link set eth0 address "$mac"
  ip -n "$BH_HOST_NS" addr add "$ip/24" dev eth0
  ip -n "$BH_HOST_NS" link set eth0 up
}

bh_host_remove() {
  [ -z "$BH_HOST_NS" ] || ip netns del "$BH_HOST_NS"
  BH_HOST_NS=""
  trap boot_cleanup EXIT
}
