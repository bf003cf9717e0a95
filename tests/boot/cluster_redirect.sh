#!/usr/bin/env bash
# A real PXE boot redirected to another server (docs/SCALE-OUT.md), inside a private network namespace (see
# lib.sh): two `bootherd serve` on one PostgreSQL catalog, s1 (10.99.N.1: DHCP, scripts, iSCSI) and s2
# (10.99.N.2 on the same bridge: iSCSI only). s2 pulls the image version from s1; a first machine (a script
# fetch, no guest) is homed on s1, so the least-loaded server for the next one is s2. That one is a diskless
# qemu PC (TCG, the e1000's iPXE ROM): DHCP and its script come from s1, the script names s1's portal, s1
# answers its login with a redirect to s2 (0x0101, TargetAddress), iPXE logs in at s2 and boots its disk there
# to the marker. Checked: the marker, the redirect in s1's log, the disk served (and made) by s2 only, and the
# machine homed on s2 in the catalog.
# Runs under tests/with_postgres.sh (BOOTHERD_TEST_CATALOG, and BOOTHERD_TEST_CATALOG_SOCKET: the servers run in
# the namespace, which cannot reach the host's 127.0.0.1, so they use PostgreSQL's unix socket).
# Usage: cluster_redirect.sh BOOTHERD_BINARY. Run as root. Exits 77 if it cannot run here. BOOT_KEEP=1 keeps logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/boot/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/boot/bootherd_lib.sh
. "$here/bootherd_lib.sh"

bootherd=$(realpath "${1:?usage: cluster_redirect.sh BOOTHERD_BINARY}")
: "${BOOTHERD_TEST_CATALOG:?run this under tests/with_postgres.sh}"
: "${BOOTHERD_TEST_CATALOG_SOCKET:?run this under tests/with_postgres.sh}"
BIOS_LIMIT=${BIOS_LIMIT:-120}
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
boot_require ip qemu-system-x86_64 qemu-img nasm curl psql
[ -r /usr/lib/ipxe/qemu/pxe-e1000.rom ] || { echo "SKIP: pxe-e1000.rom missing (package ipxe-qemu)" >&2; exit 77; }
t0=$EPOCHREALTIME
export BOOTHERD_CATALOG=$BOOTHERD_TEST_CATALOG_SOCKET

psql_q() { psql -X -A -t -q "$BOOTHERD_TEST_CATALOG" -c "$1"; }
home_of() {
  psql_q "SELECT s.name FROM nodes n JOIN servers s ON s.id = n.home_server_id WHERE n.name = '$1'"
}

boot_setup $((RANDOM % 200 + 20))
s2_ip=$BOOT_SUBNET_PREFIX.2
ip -n "$BOOT_NS" addr add "$s2_ip/24" dev br0 # after s1's: br0's first address stays s1's

# The image, v1, imported through s1's data directory (sealed with its SHA-256), and the two machines.
bh_init "$bootherd" "$BOOT_SCRATCH/d1"
bh_import_bios bios
mac=52:54:00:b2:00:01
bh_cli node add pc --mac "$mac" --image bios >/dev/null
bh_cli node add first --mac 52:54:00:b2:00:02 --image bios --no-bind-address >/dev/null

# s1: the boot server of the machine's link; its web service also on br0 (iPXE fetches its script there).
BH_HTTP=0.0.0.0:8080
bh_start_serve "$BOOT_SCRATCH/serve-s1.log" --dhcp full --dhcp-range "$BOOT_SUBNET_PREFIX.100-$BOOT_SUBNET_PREFIX.150" \
  --server-name s1 --server-url http://127.0.0.1:8080 --heartbeat-seconds 1
s1_log=$BOOT_SCRATCH/serve-s1.log
# s2: iSCSI on its own address only, no DHCP or TFTP; it pulls v1 from s1 over the namespace's loopback.
s2_log=$BOOT_SCRATCH/serve-s2.log
mkdir -p "$BOOT_SCRATCH/d2"
boot_spawn "$s2_log" "$bootherd" serve --data "$BOOT_SCRATCH/d2" --listen "$s2_ip:3260" \
  --listen-http 127.0.0.1:8081 --server-name s2 --server-url http://127.0.0.1:8081 --heartbeat-seconds 1
s2_pid=$BOOT_LAST_PID
boot_wait_log "$s2_log" "serving .* on $s2_ip:3260" "$s2_pid" "bootherd serve (s2)"

holders() {
  psql_q "SELECT string_agg(s.name, ' ' ORDER BY s.name) FROM server_versions c JOIN servers s ON s.id = c.server_id"
}
for _ in $(seq 150); do
  [ "$(holders)" = "s1 s2" ] && grep -q "pulled version" "$s2_log" && break # the copy is recorded before the log line
  kill -0 "$s2_pid" 2>/dev/null || { boot_show "$s2_log"; boot_die "s2 exited"; }
  sleep 0.2
done
if [ "$(holders)" = "s1 s2" ] && grep -q "pulled version" "$s2_log"; then
  pass "pull: s2 pulled v1 from s1 and holds a verified copy"
else
  boot_show "$s2_log" 20
  boot_die "s2 holds no verified copy of v1 (holders: '$(holders)')"
fi

# Machine `first` fetches its script from s1: both servers idle, it is homed on s1 (ties go to the first
# registered). Now s1 has one machine and s2 none: the PC below is homed on s2.
ip netns exec "$BOOT_NS" curl -fsS "http://127.0.0.1:8080/boot/52:54:00:b2:00:02.ipxe" >/dev/null
[ "$(home_of first)" = s1 ] || boot_die "machine first is homed on '$(home_of first)', not s1"

log=$BOOT_SCRATCH/serial-pc.log
if bh_boot bios "$mac" 'BOOTHERD-MARKER boot=1' "$BIOS_LIMIT" "$log"; then
  pass "boot: '$BOOT_MARKER_LINE' after $BOOT_SECONDS s"
else
  fail "boot: got '${BOOT_MARKER_LINE:-no marker}', want 'BOOTHERD-MARKER boot=1'"
  boot_show "$log" 30
  boot_show "$s1_log" 20
  boot_show "$s2_log" 20
fi

iqn=$(psql_q "SELECT iqn FROM nodes WHERE name = 'pc'")
guest="$BOOT_SUBNET_PREFIX\.1[0-9][0-9]" # the guest's lease, .100-.150
if grep -q "iSCSI login redirected: .* target=$iqn peer=$guest:[0-9]* to=$s2_ip:3260," "$s1_log"; then
  pass "redirect: s1 sent the guest's login to $s2_ip:3260"
else
  fail "redirect: no redirect of $iqn to $s2_ip:3260 in s1's log"
fi
if grep -q "serving nodes/.* as $iqn" "$s2_log" && grep -q "node pc .* iscsi.first_read: .* from $guest:" "$s2_log" &&
  ! grep -q "serving nodes/.* as $iqn" "$s1_log" &&
  [ "$(find "$BOOT_SCRATCH/d2/nodes" -name '*.vhdx' 2>/dev/null | wc -l)" -eq 1 ]; then
  pass "disk: pc's disk made by s2, and its reads served by s2 only"
else
  fail "disk: pc's disk was not made and read on s2 alone"
fi
home=$(home_of pc)
if [ "$home" = s2 ]; then pass "catalog: pc is homed on s2"; else fail "catalog: pc is homed on '$home', not s2"; fi
secret=$(psql_q "SELECT chap_secret FROM nodes WHERE name = 'pc'")
[ -n "$secret" ] || fail "secret: pc has no CHAP secret"
! grep -qF "${secret:-none}" "$s1_log" "$s2_log" || fail "secret: pc's CHAP secret is in a server's log"

bh_stop_serve
boot_kill "$s2_pid"
echo "$passed passed, $failed failed in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
[ "$failed" -eq 0 ]
