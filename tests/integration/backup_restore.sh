#!/usr/bin/env bash
# Backup and restore through the real CLI, made while `bootherd serve` runs: the backup's manifest checks out
# with sha256sum(1), sealed versions are hard-linked, and after wiping the data directory and restoring it the
# same machines boot the same versions, a persistent machine with what it wrote (read back through the iSCSI
# target by qemu-io). A damaged backup or a non-empty target directory is refused before anything is written.
source "$(dirname "$0")/lib.sh"

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }

IMG=$SCRATCH/base.raw
truncate -s 16M "$IMG"
dd if=/dev/urandom of="$IMG" bs=64K count=16 conv=notrunc status=none
bh image import base "$IMG" >/dev/null
bh image edit base >/dev/null && bh image commit base >/dev/null && bh image promote base 2 >/dev/null
bh node add pc1 --mac 52:54:00:00:03:01 --image base --no-bind-address >/dev/null
bh node add pc2 --mac 52:54:00:00:03:02 --image base --persistent --no-bind-address >/dev/null
field() { bh node show "$1" | sed -n "s/^$2=//p"; }

boot() { curl -sf "http://127.0.0.1:$HTTP/boot/52:54:00:00:03:0$1.ipxe" >/dev/null || die "no script for pc$1"; }
qio() { # NODE COMMAND: qemu-io on the node's disk through the target, as the node
  local opts="driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$(field "$1" target),lun=0"
  opts+=",initiator-name=$(field "$1" initiator),user=$(field "$1" chap_user),password-secret=sec0"
  qemu-io --object "secret,id=sec0,data=$(field "$1" chap_secret)" --image-opts "$opts" -c "$2"
}

start_serve "$DATA"
boot 1
boot 2
qio pc2 "write -P 0x6b 1M 64k" >/dev/null || die "cannot write to pc2's disk"
before=$(for n in pc1 pc2; do echo "$n $(field $n version) $(field $n disk)"; done)

# --- backup while serve runs ---
bh backup "$SCRATCH/full" --node-disks >"$SCRATCH/backup.out" || die "backup failed: $(cat "$SCRATCH/backup.out")"
(cd "$SCRATCH/full" && sha256sum --quiet -c SHA256SUMS) || die "sha256sum -c rejects the backup's manifest"
[ "$(wc -l <"$SCRATCH/full/SHA256SUMS")" -eq 5 ] || die "expected catalog + 2 versions + 2 node disks in SHA256SUMS"
[ "$(stat -c %i "$DATA/images/base/v1.vhdx")" = "$(stat -c %i "$SCRATCH/full/images/base/v1.vhdx")" ] ||
  die "the sealed v1 was not hard-linked into the backup"
[ "$(stat -c %a "$SCRATCH/full")" = 700 ] && [ "$(stat -c %a "$SCRATCH/full/catalog.db")" = 600 ] ||
  die "the backup is not private"
bh backup "$SCRATCH/lean" >/dev/null || die "backup without node disks failed"
ok "backup beside a running serve: sha256sum -c accepts it, sealed versions hard-linked, private modes"

expect_fail "exists" bh backup "$SCRATCH/full"
cp -a "$SCRATCH/full" "$SCRATCH/damaged"
printf '\x01' | dd of="$SCRATCH/damaged/nodes/$(basename "$(field pc2 disk)")" bs=1 seek=2000000 conv=notrunc status=none
stop_serve

# --- wipe and restore ---
rm -rf "$DATA"
expect_fail "does not match its checksum" bh restore "$SCRATCH/damaged"
[ ! -e "$DATA/catalog.db" ] || die "a refused restore wrote a catalog"
mkdir -p "$SCRATCH/busy" && touch "$SCRATCH/busy/x"
expect_fail "is not empty" "$BOOTHERD" restore "$SCRATCH/full" --data "$SCRATCH/busy"
ok "a damaged backup and a non-empty directory are refused before anything is written"

bh restore "$SCRATCH/full" >/dev/null || die "restore failed"
after=$(for n in pc1 pc2; do echo "$n $(field $n version) $(field $n disk)"; done)
[ "$before" = "$after" ] || die "after restore the nodes differ: $before / $after"
start_serve "$DATA"
boot 2
qio pc2 "read -P 0x6b 1M 64k" >/dev/null || die "pc2's disk lost what it wrote"
boot 1
[ "$(field pc1 version)" = 2 ] || die "pc1 does not boot v2 after restore"
stop_serve
ok "wiped and restored: pc1 boots v2, persistent pc2 keeps its disk and what it wrote"

rm -rf "$DATA"
out=$(bh restore "$SCRATCH/lean") || die "restore of the backup without node disks failed"
grep -q "node pc2: its disk was not in the backup" <<<"$out" || die "restore does not name the nodes without disks: $out"
[ -z "$(field pc2 disk)" ] || die "pc2 still names a disk the backup did not hold"
ok "a backup without node disks restores the catalog and images; the nodes get fresh disks, named"
