#!/usr/bin/env bash
# Attack: a second host on the boot LAN asks for an enrolled machine's boot script (HTTP GET and TFTP RRQ of
# boot/<mac>.ipxe), which names the machine's initiator and CHAP secret, and logs in to the machine's disk with
# those credentials (taken from the catalog, as if leaked). Property: a node's secrets go only to the address
# the server ties to its MAC (its full-DHCP lease; in proxy mode the neighbour table's entry), and its target
# admits logins only from there. Checked in full and in proxy DHCP mode; the victim itself still gets its
# script and logs in. The same for the draft's secret once the victim is its image's maintenance machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/security/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/security/lib_boot.sh
. "$here/lib_boot.sh"
sec_require_root
for tool in ip curl iscsi-inq qemu-img; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing" >&2; exit 77; }
done

data=$(sec_data data)
lan_image "$data" base
victim_mac=52:54:00:5e:c0:01
attacker_mac=52:54:00:5e:c0:66
sec_cli "$data" node add victim --mac "$victim_mac" --image base >/dev/null
show() { sec_node_field "$data" victim "$1"; }
target=$(show target)
initiator=$(show initiator)
user=$(show chap_user)
secret=$(show chap_secret)
[ -n "$secret" ] || die "no CHAP secret for the victim"

n=$((RANDOM % 200 + 20))
sec_lan "$n"
sec_host victim "" "$victim_mac" >/dev/null
victim_ns="$SEC_NS-victim"
sec_host attacker "10.97.$n.66" "$attacker_mac" >/dev/null
attacker_ns="$SEC_NS-attacker"

login() {  # NS: iscsi-inq with the victim's initiator name and CHAP from that namespace
  ip netns exec "$1" timeout 30 iscsi-inq -i "$initiator" "iscsi://$user%$secret@$SEC_SERVER_IP:3260/$target/0" \
    >/dev/null 2>&1
}

# check MODE VICTIM_IP: the attacker is refused everywhere, the victim is served.
check() {
  local mode=$1 victim_ip=$2 code out=$SEC_SCRATCH/reply
  code=$(lan_http "$attacker_ns" "$victim_mac" "$out")
  [ "$code" = 403 ] || die "$mode: the attacker's GET of the victim's script answered $code"
  ! grep -qF "$secret" "$out" || die "$mode: the 403 carries the CHAP secret"
  ok "$mode: HTTP GET of the victim's script from the attacker's address: 403, no secret"
  if lan_tftp "$attacker_ns" "$victim_mac" "$out"; then die "$mode: the attacker's TFTP RRQ was served"; fi
  ! grep -qsF "$secret" "$out" || die "$mode: the TFTP error carries the CHAP secret"
  ok "$mode: TFTP RRQ of the victim's script from the attacker's address: error, no secret"

  code=$(lan_http "$victim_ns" "$victim_mac" "$out")
  [ "$code" = 200 ] || die "$mode: the victim's own GET answered $code"
  grep -qF "set password $secret" "$out" || die "$mode: the victim's HTTP script lacks its credentials"
  lan_tftp "$victim_ns" "$victim_mac" "$out" || die "$mode: the victim's own TFTP RRQ failed"
  grep -qF "set password $secret" "$out" || die "$mode: the victim's TFTP script lacks its credentials"
  [ "$(show boot_address)" = "$victim_ip" ] || die "$mode: boot address '$(show boot_address)', want $victim_ip"
  ok "$mode: the victim ($victim_ip) gets its script over HTTP and TFTP; its boot address is recorded"

  if login "$attacker_ns"; then die "$mode: the attacker logged in to $target with the stolen credentials"; fi
  ok "$mode: the attacker's iSCSI login with the victim's credentials is refused"
  login "$victim_ns" || die "$mode: the victim cannot log in to its own target"
  ok "$mode: the victim logs in to its target"
}

lan_serve "$data" "$SEC_SCRATCH/serve-full.log" --dhcp full --dhcp-range "10.97.$n.100-10.97.$n.150"
leased=$(lan_dhcp "$victim_ns" "$victim_mac") || die "the victim got no lease"
check full "$leased"
grep -q "script of node victim refused to 10.97.$n.66" "$SEC_SCRATCH/serve-full.log" ||
  die "full: no log line for the refused fetch"
if command -v sqlite3 >/dev/null; then
  refused=$(sqlite3 "file:$data/catalog.db?mode=ro" "SELECT count(*) FROM events WHERE kind = 'script.refused'")
  [ "$refused" -gt 0 ] || die "full: no script.refused boot event"
fi
ok "full: refusals are logged and recorded as boot events"
sec_stop "$LAN_SERVE_PID" || true

# Proxy mode: another DHCP server gave the victim its address; the neighbour table ties it to the MAC.
ip -n "$victim_ns" addr flush dev eth0
ip -n "$victim_ns" addr add "10.97.$n.10/24" dev eth0
lan_serve "$data" "$SEC_SCRATCH/serve-proxy.log" --dhcp proxy
check proxy "10.97.$n.10"

# The victim as its image's maintenance machine: its script now carries the draft's CHAP secret, which goes
# to the victim's address alone, and the draft's target admits the victim's initiator only from there.
sec_cli "$data" image edit base --on victim >/dev/null || die "image edit --on victim failed"
shown=$(sec_cli "$data" image show base)
d_user=$(sed -n 's/^  CHAP user \([^,]*\), secret .*/\1/p' <<<"$shown")
d_secret=$(sed -n 's/^  CHAP user [^,]*, secret \(.*\)$/\1/p' <<<"$shown")
[ -n "$d_secret" ] || die "no CHAP secret for the draft: $shown"
out=$SEC_SCRATCH/reply
code=$(lan_http "$attacker_ns" "$victim_mac" "$out")
[ "$code" = 403 ] && ! grep -qF "$d_secret" "$out" || die "maintenance: the attacker's GET answered $code"
code=$(lan_http "$victim_ns" "$victim_mac" "$out")
[ "$code" = 200 ] && grep -qF "set password $d_secret" "$out" && grep -qF ":0:iqn.2026-11.org.bootherd:draft.base" "$out" ||
  die "maintenance: the victim's script does not sanboot the draft ($code): $(cat "$out")"
ok "maintenance: the draft's secret goes in the victim's script, to its address only"
draft_login() { # NS
  ip netns exec "$1" timeout 30 iscsi-inq -i "$initiator" \
    "iscsi://$d_user%$d_secret@$SEC_SERVER_IP:3260/iqn.2026-11.org.bootherd:draft.base/0" >/dev/null 2>&1
}
if draft_login "$attacker_ns"; then die "maintenance: the attacker logged in to the draft as the victim"; fi
draft_login "$victim_ns" || die "maintenance: the victim cannot log in to the draft"
ok "maintenance: the draft admits the victim's initiator from its address, not from the attacker's"
sec_stop "$LAN_SERVE_PID" || true
echo "script_theft: passed"
