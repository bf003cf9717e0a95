#!/usr/bin/env bash
# The Debian package as a sysadmin gets it: built with cpack from the build tree, checked by lintian (no error)
# and systemd-analyze verify, installed with dpkg -i, then `bootherd serve` started the way bootherd.service
# starts it (its ExecStart, as user bootherd, only the unit's capabilities, no new privileges, the packaged
# /etc/bootherd/bootherd.toml, /var/lib/bootherd made like StateDirectory= makes it) with a systemd notification
# socket standing in for systemd (READY, WATCHDOG, STOPPING); a qemu machine PXE-boots from it in a private
# network namespace. Without CAP_NET_BIND_SERVICE serve must name the port and the capability. Finally dpkg
# --purge must leave nothing behind (binary, unit, config, data dir, user). The package is purged on exit, even
# on failure. Usage: package_install.sh BUILD_DIR. Run as root; exits 77 if it cannot run here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
boot_dir=$here/../boot
# shellcheck source=tests/boot/lib.sh
. "$boot_dir/lib.sh"
# shellcheck source=tests/boot/bootherd_lib.sh
. "$boot_dir/bootherd_lib.sh"

build=$(realpath "${1:?usage: package_install.sh BUILD_DIR}")
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
boot_require cpack dpkg lintian systemd-analyze setpriv python3 ip qemu-system-x86_64 qemu-img nasm
[ -r /usr/lib/ipxe/qemu/pxe-e1000.rom ] || { echo "SKIP: ipxe-qemu missing" >&2; exit 77; }
if dpkg-query -W -f='${Status}' bootherd 2>/dev/null | grep -q installed || getent passwd bootherd >/dev/null ||
  [ -e /var/lib/bootherd ]; then
  echo "SKIP: bootherd is already installed on this machine (or its user or data dir exist); not touching it" >&2
  exit 77
fi

installed=""
cleanup() {
  boot_cleanup
  if [ -n "$installed" ]; then
    dpkg --purge bootherd >/dev/null 2>&1 || echo "cleanup: dpkg --purge bootherd failed" >&2
  fi
}
boot_setup $((RANDOM % 200 + 20))
trap cleanup EXIT
chmod 0755 "$BOOT_SCRATCH" # user bootherd reads the image to import from here

# ---- build, lint
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$BOOT_SCRATCH/pkg" >"$BOOT_SCRATCH/cpack.log" 2>&1 ||
  { cat "$BOOT_SCRATCH/cpack.log"; boot_die "cpack failed"; }
deb=$(echo "$BOOT_SCRATCH"/pkg/bootherd_*_amd64.deb)
[ -f "$deb" ] || boot_die "cpack made no bootherd_*_amd64.deb"
if [ -f "$(echo "$BOOT_SCRATCH"/pkg/bootherd-dbgsym_*_amd64.ddeb)" ]; then
  pass "package: $(basename "$deb") and its dbgsym"
else
  fail "package: no bootherd-dbgsym .ddeb next to $(basename "$deb")"
fi
lint=$(lintian "$deb" 2>/dev/null || true)
[ -z "$lint" ] || while IFS= read -r line; do echo "  lintian: $line"; done <<<"$lint"
if grep -q '^E:' <<<"$lint"; then fail "lintian reports errors"; else pass "lintian: no error"; fi

# ---- install
installed=yes
dpkg -i "$deb" >"$BOOT_SCRATCH/dpkg.log" 2>&1 || { cat "$BOOT_SCRATCH/dpkg.log"; boot_die "dpkg -i failed"; }
unit=/lib/systemd/system/bootherd.service
conf=/etc/bootherd/bootherd.toml
for f in /usr/bin/bootherd "$unit" "$conf" /usr/share/man/man1/bootherd.1.gz \
  /usr/share/bash-completion/completions/bootherd; do
  [ -f "$f" ] || fail "install: $f is missing"
done
if file -L /usr/bin/bootherd | grep -q 'not stripped'; then fail "install: /usr/bin/bootherd is not stripped"; fi
dpkg-query -W -f='${Conffiles}' bootherd | grep -q "$conf" || fail "install: $conf is not a conffile"
if getent passwd bootherd >/dev/null; then
  pass "install: files in place, user bootherd made"
else
  fail "install: postinst made no user bootherd"
fi
if verify=$(systemd-analyze verify "$unit" 2>&1); then pass "systemd-analyze verify: clean${verify:+ ($verify)}"
else fail "systemd-analyze verify: $verify"; fi

# ---- run it the unit's way
unit_key() { sed -n "s/^$1=//p" "$unit"; }
read -r -a exec_start <<<"$(unit_key ExecStart)"
[ "$(unit_key User)" = bootherd ] || fail "unit: User is not bootherd"
caps=$(unit_key AmbientCapabilities)
[ "$caps" = "$(unit_key CapabilityBoundingSet)" ] || fail "unit: ambient and bounding capabilities differ"
setpriv_caps=$(tr ' ' '\n' <<<"$caps" | sed 's/^CAP_//' | tr '[:upper:]' '[:lower:]' | sed 's/^/+/' | paste -sd,)
as_bootherd() { setpriv --reuid bootherd --regid bootherd --init-groups --no-new-privs "$@"; }
# StateDirectory=bootherd with StateDirectoryMode=0700.
install -d -o bootherd -g bootherd -m "$(unit_key StateDirectoryMode)" /var/lib/bootherd

mac=52:54:00:b3:00:01
"$boot_dir/make_bios_disk.sh" "$BOOT_SCRATCH/bios.img"
qemu-img convert -f raw -O vhdx "$BOOT_SCRATCH/bios.img" "$BOOT_SCRATCH/bios.vhdx"
chmod 0644 "$BOOT_SCRATCH/bios.vhdx"
as_bootherd /usr/bin/bootherd image import bios "$BOOT_SCRATCH/bios.vhdx" >/dev/null
as_bootherd /usr/bin/bootherd node add pkg1 --mac "$mac" --image bios --persistent >/dev/null
if [ -f /var/lib/bootherd/catalog.db ]; then
  pass "cli: the packaged config's data dir /var/lib/bootherd is used"
else
  fail "cli: no catalog in /var/lib/bootherd"
fi

net_args=(--listen "$BOOT_SERVER_IP:3260" --no-http --interface br0 --dhcp full
  --dhcp-range "$BOOT_SUBNET_PREFIX.100-$BOOT_SUBNET_PREFIX.150")

# Without the unit's capability: DHCP's port 67 cannot be bound, and the error says so.
boot_spawn "$BOOT_SCRATCH/nocap.log" setpriv --reuid bootherd --regid bootherd --init-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all "${exec_start[@]}" "${net_args[@]}"
nocap_rc=0
wait "$BOOT_LAST_PID" || nocap_rc=$?
if [ "$nocap_rc" -ne 0 ] && grep -q 'port 67' "$BOOT_SCRATCH/nocap.log" &&
  grep -q 'CAP_NET_BIND_SERVICE' "$BOOT_SCRATCH/nocap.log"; then
  pass "no capability: $(grep -m1 'CAP_NET_BIND_SERVICE' "$BOOT_SCRATCH/nocap.log")"
else
  fail "no capability: exit $nocap_rc, want an error naming port 67 and CAP_NET_BIND_SERVICE"
  boot_show "$BOOT_SCRATCH/nocap.log" 10
fi

# A notification socket standing in for systemd's, readable by user bootherd.
notify_sock=$BOOT_SCRATCH/notify.sock
notify_log=$BOOT_SCRATCH/notify.log
python3 - "$notify_sock" "$notify_log" <<'EOP' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
EOP
BOOT_PIDS+=("$!")
for _ in $(seq 50); do [ -S "$notify_sock" ] && break; sleep 0.1; done

boot_spawn "$BOOT_SCRATCH/serve.log" env NOTIFY_SOCKET="$notify_sock" WATCHDOG_USEC=1000000 \
  setpriv --reuid bootherd --regid bootherd --init-groups --no-new-privs \
  --inh-caps="$setpriv_caps" --ambient-caps="$setpriv_caps" --bounding-set="-all,$setpriv_caps" \
  "${exec_start[@]}" "${net_args[@]}"
serve_pid=$BOOT_LAST_PID
boot_wait_log "$BOOT_SCRATCH/serve.log" 'tftp: serving' "$serve_pid" "bootherd serve (as bootherd, $caps)"
for _ in $(seq 30); do grep -q 'READY=1' "$notify_log" 2>/dev/null && break; sleep 0.1; done
if grep -q 'READY=1' "$notify_log"; then
  pass "notify: $(grep -m1 'READY=1' "$notify_log")"
else
  fail "notify: no READY=1"
fi
[ "$(stat -c %U "/proc/$serve_pid")" = bootherd ] || fail "serve does not run as user bootherd"
# CAP_NET_RAW is in the unit for the IPv6 router-advertisement responder's raw ICMPv6 socket.
if grep -q 'no IPv6 router advertisements' "$BOOT_SCRATCH/serve.log"; then
  fail "serve: $(grep -m1 'no IPv6 router advertisements' "$BOOT_SCRATCH/serve.log")"
fi

if bh_boot bios "$mac" 'BOOTHERD-MARKER boot=1' 120 "$BOOT_SCRATCH/serial.log"; then
  pass "boot: '$BOOT_MARKER_LINE' after $BOOT_SECONDS s from the packaged bootherd"
else
  fail "boot: got '${BOOT_MARKER_LINE:-no marker}', want 'BOOTHERD-MARKER boot=1'"
  boot_show "$BOOT_SCRATCH/serial.log" 20
  boot_show "$BOOT_SCRATCH/serve.log" 30
fi
if grep -q 'WATCHDOG=1' "$notify_log"; then pass "notify: watchdog pings"; else fail "notify: no WATCHDOG=1"; fi
boot_kill "$serve_pid"
if grep -q 'STOPPING=1' "$notify_log"; then
  pass "notify: STOPPING=1 on SIGTERM"
else
  fail "notify: no STOPPING=1"
fi

# ---- purge: nothing is left
if ! dpkg --purge bootherd >"$BOOT_SCRATCH/purge.log" 2>&1; then
  cat "$BOOT_SCRATCH/purge.log"
  fail "dpkg --purge failed"
fi
installed=""
left=""
for f in /usr/bin/bootherd "$unit" /etc/bootherd /var/lib/bootherd /usr/share/doc/bootherd; do
  [ ! -e "$f" ] || left+=" $f"
done
getent passwd bootherd >/dev/null && left+=" user:bootherd"
if [ -z "$left" ]; then pass "purge: nothing left"; else fail "purge: left$left"; fi

echo "package_install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
