#!/usr/bin/env bash
# `bootherd share` serves every image format: raw, VHD (read-only), VHDX, and a VHDX differencing chain with
# its parents. Each disk is read back over iSCSI by qemu-img and compared (sha256) with a raw reference that
# qemu-img converted or qemu-io wrote the same way; libiscsi's iscsi-inq, iscsi-ls and iscsi-perf talk to it.
# The chain is built with the store's own commands (import, edit, commit), its drafts written over iSCSI.
source "$(dirname "$0")/lib.sh"

INIT=iqn.2026-11.org.example:share-formats
REF=$SCRATCH/ref.raw
truncate -s 64M "$REF"
dd if=/dev/urandom of="$REF" bs=64K count=40 conv=notrunc status=none
dd if=/dev/urandom of="$REF" bs=4K seek=5000 count=300 conv=notrunc status=none
dd if=/dev/urandom of="$REF" bs=512 seek=131071 count=1 conv=notrunc status=none

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Serves FILE (extra share options after it), checks INQUIRY and discovery, reads the whole disk with
# qemu-img and compares it with file EXPECTED.
check_served() {
  local file=$1 expected=$2 label=$3
  shift 3
  start_share "$file" --iqn "iqn.2026-11.org.bootherd:share.$label" "$@"
  local url="iscsi://127.0.0.1:$SHARE_PORT/iqn.2026-11.org.bootherd:share.$label/0"
  iscsi-inq -i "$INIT" "$url" >/dev/null || die "$label: iscsi-inq failed"
  iscsi-ls -i "$INIT" "iscsi://127.0.0.1:$SHARE_PORT" | grep -q "share.$label" || die "$label: not discovered"
  qemu-img convert -f raw -O raw "$url" "$SCRATCH/read-$label.raw" || die "$label: qemu-img cannot read it"
  [ "$(sha "$SCRATCH/read-$label.raw")" = "$(sha "$expected")" ] || die "$label: content differs from the reference"
  stop_share
  ok "$label: served, discovered, read back with the reference's sha256"
}

check_served "$REF" "$REF" raw

qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$REF" "$SCRATCH/disk.vhd"
check_served "$SCRATCH/disk.vhd" "$REF" vhd --read-only
set +e
out=$("$BOOTHERD" share "$SCRATCH/disk.vhd" --listen 127.0.0.1:0 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q -- "--read-only" <<<"$out" || die "a VHD shared read-write was not refused: $out"
ok "vhd: sharing it writable is refused with a clear error"

qemu-img convert -f raw -O vhdx -o subformat=dynamic "$REF" "$SCRATCH/disk.vhdx"
check_served "$SCRATCH/disk.vhdx" "$REF" vhdx

# A chain v1 <- v2 <- v3 <- v4 made by the store: each draft shared writable, written over iSCSI by qemu-io
# (unaligned sectors, across blocks, zeroing with unmap), the same commands applied to the raw reference.
DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }
bh image import golden "$SCRATCH/disk.vhdx" >/dev/null || die "import failed"
write_draft() {  # VERSION then qemu-io commands
  local version=$1
  shift
  bh image edit golden >/dev/null || die "image edit failed"
  local draft=$DATA/images/golden/v$version.vhdx
  [ -f "$draft" ] || die "no draft file $draft"
  start_share "$draft" --iqn iqn.2026-11.org.bootherd:share.draft
  local url="iscsi://127.0.0.1:$SHARE_PORT/iqn.2026-11.org.bootherd:share.draft/0" c
  for c in "$@"; do
    qemu-io -f raw -c "$c" "$REF" >/dev/null || die "qemu-io on the reference: $c"
    qemu-io -f raw -c "$c" "$url" >/dev/null || die "qemu-io over iSCSI: $c"
  done
  stop_share
  bh image commit golden >/dev/null || die "image commit of v$version failed"
  bh image promote golden "$version" >/dev/null || die "image promote of v$version failed"
}
write_draft 2 "write -P 0x11 1536 3k" "write -P 0x22 33553920 8k" "write -P 0x33 20M 1M" "write -P 0x44 67108352 512"
write_draft 3 "write -P 0x55 2048 1k" "write -z -u 20M 512k" "write -P 0x66 33554432 4k" "write -z 4M 64k"
bh image edit golden >/dev/null
CHAIN=$DATA/images/golden/v4.vhdx
check_served "$CHAIN" "$REF" chain --read-only
check_served "$CHAIN" "$REF" chain-rw
start_share "$CHAIN" --iqn iqn.2026-11.org.bootherd:share.perf --read-only
iscsi-perf -i "$INIT" -t 2 -r "iscsi://127.0.0.1:$SHARE_PORT/iqn.2026-11.org.bootherd:share.perf/0" >"$SCRATCH/perf.out" 2>&1 ||
  die "iscsi-perf failed: $(tail -3 "$SCRATCH/perf.out")"
tr '\r' '\n' <"$SCRATCH/perf.out" | grep -q '^iops average' || die "iscsi-perf printed no result"
stop_share
ok "chain of 4 (v4 -> v3 -> v2 -> v1): qemu-img reads what qemu-io wrote to the raw reference; iscsi-perf runs"
