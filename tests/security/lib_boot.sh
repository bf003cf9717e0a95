# shellcheck shell=bash disable=SC2034 # LAN_* variables set here are outputs for the sourcing script
# Boot-service helpers for the attack suite (sourced after lib.sh, as root):
#
#   lan_image DATA NAME        imports a small blank VHDX as image NAME
#   lan_serve DATA LOG ARGS... `bootherd serve` inside SEC_NS on br0 (iSCSI SEC_SERVER_IP:3260, HTTP :8080,
#                              TFTP); waits until TFTP is up; sets LAN_SERVE_PID
#   lan_http NS MAC OUT        GET /boot/MAC.ipxe from namespace NS into OUT; prints the HTTP status
#   lan_tftp NS MAC OUT        TFTP RRQ boot/MAC.ipxe from NS into OUT; returns curl's status
#   lan_dhcp NS MAC            a DHCP lease for MAC on NS's eth0 (as PXE firmware), put on eth0; prints it
#   lan_script_value FILE KEY  a `set KEY VALUE` of an iPXE script
LAN_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAN_SERVE_PID=""
LAN_PYTHON=$(command -v /usr/bin/python3 || command -v python3)

lan_image() {
  local data=$1 name=$2
  qemu-img create -q -f vhdx "$SEC_SCRATCH/$name.vhdx" 64M
  sec_cli "$data" image import "$name" "$SEC_SCRATCH/$name.vhdx" >/dev/null
}

lan_serve() {
  local data=$1 log=$2
  shift 2
  ip netns exec "$SEC_NS" "$BOOTHERD" serve --data "$data" --listen "$SEC_SERVER_IP:3260" \
    --listen-http "$SEC_SERVER_IP:8080" --interface br0 "$@" >"$log" 2>&1 &
  LAN_SERVE_PID=$!
  SEC_PIDS+=("$LAN_SERVE_PID")
  sec_wait_log "$log" 'tftp: serving' "$LAN_SERVE_PID" "bootherd serve"
}

lan_http() {
  ip netns exec "$1" curl -s -m 20 -o "$3" -w '%{http_code}' "http://$SEC_SERVER_IP:8080/boot/$2.ipxe" || true
}

lan_tftp() {
  rm -f "$3"
  ip netns exec "$1" curl -s -m 20 -o "$3" "tftp://$SEC_SERVER_IP/boot/$2.ipxe"
}

lan_dhcp() {
  local ns=$1 mac=$2 leased
  leased=$(ip netns exec "$ns" "$LAN_PYTHON" "$LAN_HERE/dhcp_client.py" eth0 "$mac") || die "no DHCP lease for $mac"
  ip -n "$ns" addr add "$leased/24" dev eth0
  echo "$leased"
}

lan_script_value() { sed -n "s/^set $2 //p" "$1"; }
