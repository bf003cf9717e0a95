#!/usr/bin/env bash
# Attack: a second host on the boot LAN sends health reports (POST /boot/health, no credentials) to fail or pass
# an enrolled machine's boot, and floods the endpoint. Property (docs/BOOTS.md): a report counts only from the
# address the machine's current boot is bound to, and applies to that machine's running boot; others get 403,
# logged and recorded at most 10 times a minute. The machine itself reports exactly as its systemd unit would
# (`curl -fsS -X POST -d state=ok http://SERVER:8080/boot/health`), and its boot ends ok after its OS login.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/security/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/security/lib_boot.sh
. "$here/lib_boot.sh"
sec_require_root
for tool in ip curl iscsi-inq qemu-img sqlite3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing" >&2; exit 77; }
done

data=$(sec_data data)
lan_image "$data" base
victim_mac=52:54:00:5e:c1:01
sec_cli "$data" node add victim --mac "$victim_mac" --image base >/dev/null
show() { sec_node_field "$data" victim "$1"; }
target=$(show target)
initiator=$(show initiator)
user=$(show chap_user)
secret=$(show chap_secret)

n=$((RANDOM % 200 + 20))
sec_lan "$n"
sec_host victim "" "$victim_mac" >/dev/null
victim_ns="$SEC_NS-victim"
sec_host attacker "10.97.$n.66" 52:54:00:5e:c1:66 >/dev/null
attacker_ns="$SEC_NS-attacker"
boot() { sqlite3 "file:$data/catalog.db?mode=ro" "SELECT outcome || ' ' || reason || ' ' || message FROM boots ORDER BY id DESC LIMIT 1"; }
report() {  # NS BODY: POST /boot/health from that namespace; prints the HTTP status
  ip netns exec "$1" curl -s -m 20 -o /dev/null -w '%{http_code}' -X POST -d "$2" "http://$SEC_SERVER_IP:8080/boot/health" || true
}

lan_serve "$data" "$SEC_SCRATCH/serve.log" --dhcp full --dhcp-range "10.97.$n.100-10.97.$n.150"
leased=$(lan_dhcp "$victim_ns" "$victim_mac") || die "the victim got no lease"
[ "$(lan_http "$victim_ns" "$victim_mac" "$SEC_SCRATCH/script")" = 200 ] || die "the victim got no script"
for _ in $(seq 50); do [ -n "$(boot)" ] && break; sleep 0.1; done
[ "$(boot)" = "running  " ] || die "serving the script made no running boot record (got '$(boot)')"
ok "the victim ($leased) fetched its script: its boot is running"

code=$(report "$attacker_ns" "state=failed&message=forged")
[ "$code" = 403 ] || die "the attacker's failed report answered $code"
[ "$(boot)" = "running  " ] || die "the attacker's report changed the boot: '$(boot)'"
ok "a failed report from another LAN address is 403 and changes nothing"

for _ in $(seq 40); do report "$attacker_ns" "state=failed" >/dev/null; done
lines=$(grep -c "health report from 10.97.$n.66 refused" "$SEC_SCRATCH/serve.log" || true)
events=$(sqlite3 "file:$data/catalog.db?mode=ro" "SELECT count(*) FROM events WHERE kind = 'boot.health.refused'")
[ "$lines" -le 10 ] && [ "$events" -le 10 ] && [ "$events" -ge 1 ] ||
  die "41 refused reports gave $lines log lines and $events events (want 1..10)"
ok "41 refused reports: $lines log lines, $events events"

login() { ip netns exec "$victim_ns" timeout 30 iscsi-inq -i "$initiator" "iscsi://$user%$secret@$SEC_SERVER_IP:3260/$target/0" >/dev/null 2>&1; }
login || die "the victim's firmware login failed"
login || die "the victim's OS login failed"
ip netns exec "$victim_ns" curl -fsS -o /dev/null -X POST -d state=ok "http://$SEC_SERVER_IP:8080/boot/health" ||
  die "the victim's own report was refused"
for _ in $(seq 50); do [ "$(boot)" = "ok health_ok " ] && break; sleep 0.1; done
[ "$(boot)" = "ok health_ok " ] || die "after its OS login and report the boot is '$(boot)'"
ok "the victim's own report (curl -d state=ok) after its OS login: the boot is ok"
[ "$(report "$victim_ns" state=failed)" = 409 ] || die "a report without a running boot was not 409"
ok "a later report finds no running boot: 409"
sec_stop "$LAN_SERVE_PID" || true
