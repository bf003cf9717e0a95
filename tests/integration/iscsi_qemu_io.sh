#!/usr/bin/env bash
# qemu's iSCSI block driver (qemu-block-extra) as initiator: 64 MiB of random data written through bootherd and
# read back must have the same sha256; the data must also be in the served file itself.
source "$(dirname "$0")/lib.sh"
truncate -s 256M "$SCRATCH/disk.img"
head -c 64M /dev/urandom >"$SCRATCH/random.bin"
iqn=iqn.2026-11.org.bootherd:qemu
start_share "$SCRATCH/disk.img" --iqn "$iqn"
url="iscsi://127.0.0.1:$SHARE_PORT/$iqn/0"

qemu-img convert -n -f raw -O raw "$SCRATCH/random.bin" "$url" || die "qemu-img could not write over iSCSI"
qemu-img dd -f raw -O raw if="$url" of="$SCRATCH/back.bin" bs=1M count=64 || die "qemu-img could not read back"
want=$(sha256sum <"$SCRATCH/random.bin" | cut -d' ' -f1)
got=$(sha256sum <"$SCRATCH/back.bin" | cut -d' ' -f1)
[ "$want" = "$got" ] || die "read back $got, wrote $want"
ok "64 MiB written and read back over iSCSI by qemu: sha256 $got"

qemu-io -f raw -c 'write -P 0x5a 100M 1M' -c 'read -P 0x5a 100M 1M' "$url" >"$SCRATCH/qemu-io.log" 2>&1 \
  || { cat "$SCRATCH/qemu-io.log"; die "qemu-io pattern write/read failed"; }
grep -q 'Pattern verification failed' "$SCRATCH/qemu-io.log" && die "qemu-io pattern mismatch"
ok "qemu-io pattern write and verify"

stop_share  # graceful stop flushes; the served file must hold what the initiator wrote
got=$(head -c 64M "$SCRATCH/disk.img" | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ] || die "the served file does not hold the written data after shutdown"
ok "served file holds the data after a graceful stop"
