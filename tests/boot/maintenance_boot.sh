#!/usr/bin/env bash
# Maintenance from a machine with real PXE boots (iPXE's sanboot over iSCSI, the BIOS counter disk, see
# README.md), one `bootherd serve --dhcp full` in a private network namespace:
#   maint-1, maint-2  `image edit bios --on fixer`: fixer's next boots sanboot the image's draft with the draft's
#                     CHAP (boot=1, then boot=2: the draft keeps what the machine wrote)
#   commit            refused while fixer's firmware session is still open on the draft (iPXE never logs out: the
#                     server reaps it once idle), then v2 is sealed; the time it took is printed
#   fixer-own         fixer's next boot is its own (non-persistent) disk again, on the promoted v1: boot=1
#   promoted          after `image promote bios 2` another machine boots v2 and counts on from it: boot=3
#   rollback          after `image rollback bios` it boots v1 again: boot=1
# Usage: maintenance_boot.sh BOOTHERD_BINARY. Run as root. Exits 77 if it cannot run here. BOOT_KEEP=1 keeps logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/boot/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/boot/bootherd_lib.sh
. "$here/bootherd_lib.sh"

bootherd=$(realpath "${1:?usage: maintenance_boot.sh BOOTHERD_BINARY}")
BIOS_LIMIT=${BIOS_LIMIT:-120}
COMMIT_LIMIT=${COMMIT_LIMIT:-300} # the server reaps an abandoned session after 120 s idle
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
boot_require ip qemu-system-x86_64 qemu-img nasm
for f in /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/qemu/pxe-e1000.rom; do
  [ -r "$f" ] || { echo "SKIP: $f missing (packages ipxe, ipxe-qemu)" >&2; exit 77; }
done

boot_setup $((RANDOM % 200 + 20))
bh_init "$bootherd" "$BOOT_SCRATCH/data"
bh_import_bios bios >/dev/null
mac_fixer=52:54:00:b1:00:01
mac_user=52:54:00:b1:00:02
bh_cli node add fixer --mac "$mac_fixer" --image bios >/dev/null
bh_cli node add user --mac "$mac_user" --image bios >/dev/null

cat >"$BOOT_SCRATCH/bootherd.toml" <<EOC
[serve]
dhcp = "full"
dhcp-range = "$BOOT_SUBNET_PREFIX.100-$BOOT_SUBNET_PREFIX.150"
EOC
bh_start_serve "$BOOT_SCRATCH/serve.log" --config "$BOOT_SCRATCH/bootherd.toml"
echo "bootherd serve --dhcp full on br0 ($BOOT_SERVER_IP)"

# boot NAME MAC REGEX: one boot that must print a marker matching REGEX.
boot() {
  if bh_boot bios "$2" "$3" "$BIOS_LIMIT" "$BOOT_SCRATCH/serial-$1.log"; then
    echo "ok: $1: '$BOOT_MARKER_LINE' after $BOOT_SECONDS s"
  else
    boot_show "$BOOT_SCRATCH/serial-$1.log" 30
    boot_show "$BOOT_SCRATCH/serve.log" 30
    boot_die "$1: got '${BOOT_MARKER_LINE:-no marker}', want '$3'"
  fi
}

bh_cli image edit bios --on fixer >/dev/null
secret=$(bh_cli image show bios | sed -n 's/^  CHAP user [^,]*, secret \(.*\)$/\1/p')
[ -n "$secret" ] || boot_die "no draft credentials"
boot maint-1 "$mac_fixer" 'BOOTHERD-MARKER boot=1'
boot maint-2 "$mac_fixer" 'BOOTHERD-MARKER boot=2'
grep -q "boot: fixer ($mac_fixer) boots the maintenance of image bios: draft v2" "$BOOT_SCRATCH/serve.log" ||
  boot_die "the server did not serve fixer the draft"
! grep -qF "$secret" "$BOOT_SCRATCH/serve.log" || boot_die "the draft's secret is in the server log"
echo "ok: fixer booted the draft twice; the draft kept its writes"

# iPXE never logs out (the machine powers off under it): the draft stays open until the server reaps the
# session; commit is refused until then, with a message naming fixer.
start=$SECONDS
refusal=""
until out=$(bh_cli image commit bios 2>&1); do
  refusal=$out
  [ $((SECONDS - start)) -lt "$COMMIT_LIMIT" ] || boot_die "commit still refused after $COMMIT_LIMIT s: $out"
  sleep 2
done
[ -z "$refusal" ] || grep -q "node fixer is still logged in to the draft of image 'bios'" <<<"$refusal" ||
  boot_die "commit refused with an unexpected message: $refusal"
echo "ok: commit: v2 sealed $((SECONDS - start)) s after fixer's power-off${refusal:+ (refused until then: node fixer is still logged in)}"

boot fixer-own "$mac_fixer" 'BOOTHERD-MARKER boot=1'
bh_cli image promote bios 2 >/dev/null
boot promoted "$mac_user" 'BOOTHERD-MARKER boot=3'
bh_cli image rollback bios >/dev/null
boot rollback "$mac_user" 'BOOTHERD-MARKER boot=1'
bh_stop_serve
echo "maintenance_boot: passed"
