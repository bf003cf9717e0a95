#!/usr/bin/env bash
# Real PXE boots with bootherd as the only boot server, inside a private network namespace (see lib.sh): qemu
# (TCG) powers on diskless PCs that boot PXE -> DHCP -> TFTP -> iPXE -> boot/<mac>.ipxe -> sanboot over iSCSI,
# all served by one `bootherd serve` process, from VHDX images imported with `bootherd image import`.
#   full mode (one bootherd for all of these):
#     persistent      a persistent node prints boot=1, then boot=2 (its disk keeps the counter)
#     non-persistent  a non-persistent node prints boot=1 twice (its disk is reset at each boot)
#     events          DHCP, TFTP, script and iSCSI (firmware login, first read) steps are in the catalog's events
#     chap            a node's target accepts its own credentials from its boot address (a host standing in
#                     for the powered-off machine), refuses a wrong secret and another node's credentials
#     bound           the same credentials from another address (the server's) are refused; a node with
#                     address binding off accepts them from there (CHAP only)
#     os-login        that accepted login, the boot's second, is recorded as the OS's (iscsi.login.os)
#     boots           each boot is a record: keeper's first boot failed (reboot_loop: it PXE-booted again before
#                     ok), its second has its steps up to the OS login and still runs; the UEFI boot has TFTP too
#     discovery       an unknown MAC waits, shows up in `node discovered`, is enrolled, boots on its next retry
#     uefi            OVMF native PXE -> ipxe.efi over TFTP -> iPXE -> sanboot (skipped without the UEFI packages)
#   proxy mode: dnsmasq hands out addresses only, bootherd --dhcp proxy the boot information; the persistent node
#     boots a third time (boot=3).
# Usage: bootherd_boot.sh BOOTHERD_BINARY. Run as root. Exits 77 if it cannot run here. BOOT_KEEP=1 keeps logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/boot/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/boot/bootherd_lib.sh
. "$here/bootherd_lib.sh"

bootherd=$(realpath "${1:?usage: bootherd_boot.sh BOOTHERD_BINARY}")
BIOS_LIMIT=${BIOS_LIMIT:-120}
UEFI_LIMIT=${UEFI_LIMIT:-300}
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
boot_require ip qemu-system-x86_64 qemu-img nasm dnsmasq iscsi-inq sqlite3
for f in /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/qemu/pxe-e1000.rom; do
  [ -r "$f" ] || { echo "SKIP: $f missing (packages ipxe, ipxe-qemu)" >&2; exit 77; }
done

# check NAME MODE MAC REGEX SECS: one boot that must print a marker matching REGEX.
check_boot() {
  local name=$1 mode=$2 mac=$3 regex=$4 limit=$5
  if bh_boot "$mode" "$mac" "$regex" "$limit" "$BOOT_SCRATCH/serial-$name.log"; then
    pass "$name: '$BOOT_MARKER_LINE' after $BOOT_SECONDS s"
  else
    fail "$name: got '${BOOT_MARKER_LINE:-no marker}', want '$regex'"
    boot_show "$BOOT_SCRATCH/serial-$name.log" 30
    boot_show "$BOOT_SCRATCH/serve-$serve_mode.log" 30
  fi
}

boot_setup $((RANDOM % 200 + 20))
bh_init "$bootherd" "$BOOT_SCRATCH/data"
bh_import_bios bios >/dev/null
mac_persistent=52:54:00:b0:00:01
mac_volatile=52:54:00:b0:00:02
mac_unknown=52:54:00:b0:00:03
mac_uefi=52:54:00:b0:00:04
bh_cli node add keeper --mac "$mac_persistent" --image bios --persistent >/dev/null
bh_cli node add fresh --mac "$mac_volatile" --image bios >/dev/null
bh_cli node add routed --mac 52:54:00:b0:00:05 --image bios --persistent --no-bind-address >/dev/null

# UEFI disk first (it needs no server), so the one bootherd below serves every full-mode case.
uefi_rc=0
[ -r "$BOOT_OVMF" ] || uefi_rc=77
[ "$uefi_rc" -ne 0 ] || "$here/make_uefi_disk.sh" "$BOOT_SCRATCH/uefi.img" >/dev/null || uefi_rc=$?
if [ "$uefi_rc" -eq 0 ]; then
  qemu-img convert -f raw -O vhdx "$BOOT_SCRATCH/uefi.img" "$BOOT_SCRATCH/uefi.vhdx"
  bh_cli image import uefi "$BOOT_SCRATCH/uefi.vhdx" >/dev/null
  bh_cli node add efi --mac "$mac_uefi" --image uefi >/dev/null
fi

# ---- full DHCP mode
serve_mode=full
# The DHCP keys come from a config file here (the proxy case below uses options), so both ways are booted.
cat >"$BOOT_SCRATCH/bootherd.toml" <<EOC
[serve]
dhcp = "full"
dhcp-range = "$BOOT_SUBNET_PREFIX.100-$BOOT_SUBNET_PREFIX.150"
discovery = true
retry-seconds = 2
EOC
bh_start_serve "$BOOT_SCRATCH/serve-full.log" --config "$BOOT_SCRATCH/bootherd.toml"
echo "bootherd serve --dhcp full on br0 ($BOOT_SERVER_IP)"

check_boot persistent-boot1 bios "$mac_persistent" 'BOOTHERD-MARKER boot=1' "$BIOS_LIMIT"
check_boot persistent-boot2 bios "$mac_persistent" 'BOOTHERD-MARKER boot=2' "$BIOS_LIMIT"
check_boot non-persistent-boot1 bios "$mac_volatile" 'BOOTHERD-MARKER boot=1' "$BIOS_LIMIT"
check_boot non-persistent-boot2 bios "$mac_volatile" 'BOOTHERD-MARKER boot=1' "$BIOS_LIMIT"

# Every step of the persistent node's boots is in the catalog (the event writer runs behind the boot: give it
# a moment).
sleep 0.5
events=$(bh_events "$mac_persistent" | sort -u | tr '\n' ' ')
absent=""
for kind in dhcp.discover dhcp.offer dhcp.request dhcp.ack tftp.transfer script.fetched iscsi.login.firmware \
  iscsi.first_read; do
  [[ " $events" == *" $kind "* ]] || absent+=" $kind"
done
if [ -z "$absent" ]; then pass "events: $events"; else fail "events: missing$absent (have: $events)"; fi

# CHAP: node keeper's target with keeper's identity works from keeper's boot address (its qemu is off: a
# host namespace with its MAC and address stands in, as its OS would log in from there); with fresh's secret,
# or as fresh, it does not.
show() { bh_cli node show "$1" | sed -n "s/^$2=//p"; }
k_target=$(show keeper target)
k_init=$(show keeper initiator)
k_user=$(show keeper chap_user)
k_secret=$(show keeper chap_secret)
k_address=$(show keeper boot_address)
f_init=$(show fresh initiator)
f_user=$(show fresh chap_user)
f_secret=$(show fresh chap_secret)
bh_host keeper "$mac_persistent" "$k_address"
inq_from() { ip netns exec "$1" iscsi-inq -i "$2" "iscsi://$3%$4@$BOOT_SERVER_IP:3260/$5/0" >/dev/null 2>&1; }
inq() { inq_from "$BH_HOST_NS" "$1" "$2" "$3" "$k_target"; }
if [ -z "$k_address" ]; then
  fail "chap: keeper has no boot address after its boots"
elif ! inq "$k_init" "$k_user" "$k_secret"; then
  fail "chap: the node's own credentials were refused from its boot address $k_address"
elif inq "$k_init" "$k_user" "$f_secret"; then
  fail "chap: a wrong CHAP secret logged in to $k_target"
elif inq "$f_init" "$f_user" "$f_secret"; then
  fail "chap: node fresh logged in to node keeper's target"
else
  pass "chap: $k_target accepts its node's credentials from $k_address, refuses a wrong secret and another node"
fi

# Address binding: keeper's own credentials from the server's address are refused; node routed, whose binding
# is off, admits the same kind of login from there.
r_target=$(show routed target)
if inq_from "$BOOT_NS" "$k_init" "$k_user" "$k_secret" "$k_target"; then
  fail "bound: keeper's credentials logged in from $BOOT_SERVER_IP, not its boot address $k_address"
elif ! inq_from "$BOOT_NS" "$(show routed initiator)" "$(show routed chap_user)" "$(show routed chap_secret)" "$r_target"; then
  fail "bound: node routed (binding off) refused its credentials from $BOOT_SERVER_IP"
else
  pass "bound: $k_target refuses its credentials from another address; $r_target (binding off) accepts them"
fi
bh_host_remove  # keeper's MAC must be free on the bridge for its next boot

# The login above came after the firmware's, within the same boot: the catalog records it as the OS's login
# (what Windows' or Linux's initiator does once iPXE hands over).
sleep 0.5
last_login=$(bh_events "$mac_persistent" | grep '^iscsi\.login' | tail -n 1)
if [ "$last_login" = iscsi.login.os ]; then
  pass "os-login: a second login in the same boot is recorded as iscsi.login.os"
else
  fail "os-login: the second login of a boot was recorded as '$last_login'"
fi

# Boot records: the test disk is no OS, so a boot followed by another PXE boot is a reboot loop; the login from
# keeper's address above is its second boot's OS login (the boot stays running until the ok window). qemu's BIOS
# NIC ROM is iPXE itself, which is answered with its script at once: no TFTP step before the script (the UEFI
# case below has one).
boot_rows() {
  sqlite3 "file:$BH_DATA/catalog.db?mode=ro" "SELECT b.outcome || ' ' || b.reason || ' ' ||
    (b.dhcp_at IS NOT NULL) || (b.tftp_at IS NOT NULL) || (b.script_at IS NOT NULL) ||
    (b.firmware_login_at IS NOT NULL) || (b.first_read_at IS NOT NULL) || (b.os_login_at IS NOT NULL)
    FROM boots b JOIN nodes n ON n.id = b.node_id WHERE n.name = '$1' ORDER BY b.id" | tr '\n' ','
}
keeper_boots=$(boot_rows keeper)
if [ "$keeper_boots" = "failed reboot_loop 101110,running  101111," ]; then
  pass "boots: keeper's first boot failed (reboot loop), its second has DHCP, script, logins, first read and runs"
else
  fail "boots: keeper's boot records are '$keeper_boots' (outcome reason, then steps dhcp,tftp,script,fw,read,os)"
fi

# Discovery: an unknown machine waits and retries; once enrolled, its next retry boots.
log=$BOOT_SCRATCH/serial-discovery.log
boot_start_qemu bios "$log" "$mac_unknown"
seen=""
for _ in $(seq 120); do
  if bh_cli node discovered | grep -q "^$mac_unknown "; then seen=yes; break; fi
  kill -0 "$BOOT_QEMU_PID" 2>/dev/null || break
  sleep 0.5
done
if [ -n "$seen" ]; then
  bh_cli node add late --mac "$mac_unknown" --image bios >/dev/null
  if boot_wait_marker "$log" 'BOOTHERD-MARKER [a-z0-9=-]+' "$BIOS_LIMIT" && [ "$BOOT_MARKER_LINE" = 'BOOTHERD-MARKER boot=1' ]; then
    pass "discovery: $mac_unknown was discovered, enrolled while waiting, booted after $BOOT_SECONDS s"
  else
    fail "discovery: enrolled $mac_unknown did not boot (got '${BOOT_MARKER_LINE:-no marker}')"
    boot_show "$log" 30
  fi
else
  fail "discovery: $mac_unknown never showed up in 'bootherd node discovered'"
  boot_show "$log" 30
fi
boot_stop_qemu

if [ "$uefi_rc" -eq 0 ]; then
  check_boot uefi uefi "$mac_uefi" 'BOOTHERD-MARKER uefi' "$UEFI_LIMIT"
  sleep 0.5
  efi_boots=$(boot_rows efi)
  if [ "$efi_boots" = "running  111110," ]; then
    pass "boots: the UEFI boot's record has DHCP, TFTP (ipxe.efi), script, firmware login, first read"
  else
    fail "boots: efi's boot records are '$efi_boots' (outcome reason, then steps dhcp,tftp,script,fw,read,os)"
  fi
elif [ "$uefi_rc" -eq 77 ]; then
  echo "skip: uefi (OVMF or the UEFI disk packages grub-efi-amd64-bin, gdisk, dosfstools, mtools are missing)"
else
  fail "uefi: make_uefi_disk.sh exited $uefi_rc"
fi
bh_stop_serve

# ---- proxy mode: dnsmasq gives addresses only (no boot options, no TFTP), bootherd the PXE/iPXE answers.
# Both listen on UDP 67 of br0: dnsmasq with bind-interfaces sets SO_REUSEPORT on its DHCP socket and bootherd
# does in proxy mode, so both sockets bind and both receive the clients' broadcasts.
serve_mode=proxy
bh_start_serve "$BOOT_SCRATCH/serve-proxy.log" --dhcp proxy
boot_dnsmasq_dhcp 160 >"$BOOT_SCRATCH/dnsmasq-addresses.conf"
boot_spawn "$BOOT_SCRATCH/dnsmasq.log" dnsmasq --keep-in-foreground --conf-file="$BOOT_SCRATCH/dnsmasq-addresses.conf"
boot_wait_log "$BOOT_SCRATCH/dnsmasq.log" 'DHCP, IP range' "$BOOT_LAST_PID" dnsmasq
check_boot proxy-boot3 bios "$mac_persistent" 'BOOTHERD-MARKER boot=3' "$BIOS_LIMIT"
if grep -q "DHCPACK(br0) $BOOT_SUBNET_PREFIX.1[6-9][0-9] $mac_persistent" "$BOOT_SCRATCH/dnsmasq.log"; then
  pass "proxy-address: the address came from dnsmasq"
else
  fail "proxy-address: dnsmasq did not hand $mac_persistent its address"
  boot_show "$BOOT_SCRATCH/dnsmasq.log" 20
fi
bh_stop_serve

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
