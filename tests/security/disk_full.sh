#!/usr/bin/env bash
# Disk full: a node fills the file system under `bootherd serve`'s data directory (a small tmpfs). Checks that
#   - the write that finds no space ends in CHECK CONDITION, DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT
#     (07/27/07), not a medium error;
#   - every write acknowledged and followed by a GOOD SYNCHRONIZE CACHE reads back after a restart, and writes
#     work again once space is freed, without a restart;
#   - when the final flush at SIGTERM fails (the file system under the data directory dies: an ext4 on a loop
#     device, shut down with FS_IOC_SHUTDOWN), `serve` says so and exits non-zero.
source "$(dirname "$0")/lib.sh"
sec_require_root
CLIENT=$SEC_HERE/disk_full_client.py
MOUNTS=$(mktemp -d /tmp/bootherd-diskfull.XXXXXX)
LOOP=

df_cleanup() {
  sec_cleanup
  local m
  for m in "$MOUNTS"/tmpfs "$MOUNTS"/ext4; do mountpoint -q "$m" && umount -l "$m"; done
  [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
  rm -rf "$MOUNTS"
}
trap df_cleanup EXIT

# Every check runs, so that a failing build shows all its figures; the verdict comes at the end.
FAILURES=()
bad() {
  echo "FAIL: $*" >&2
  FAILURES+=("$*")
}

# A data directory on the file system mounted at $1, with image `base` (64 MiB, 1 MiB of data) and the
# persistent node pc1; sets NODE_* from `node show`.
make_store() {
  local data=$1/data raw=$SEC_SCRATCH/base-$RANDOM.raw
  truncate -s 64M "$raw"
  dd if=/dev/urandom of="$raw" bs=64K count=16 conv=notrunc status=none
  sec_cli "$data" image import base "$raw" >/dev/null
  sec_cli "$data" node add pc1 --mac 52:54:00:00:d1:5c --image base --persistent --no-bind-address >/dev/null
  field() { sec_node_field "$data" pc1 "$1"; }
  NODE_TARGET=$(field target)
  NODE_INITIATOR=$(field initiator)
  NODE_USER=$(field chap_user)
  NODE_SECRET=$(field chap_secret)
  DATA=$data
}

client() {
  local mode=$1 ledger=$2
  shift 2
  timeout 300 python3 "$CLIENT" "$mode" "$SEC_ISCSI_PORT" "$NODE_TARGET" "$NODE_INITIATOR" "$NODE_USER" \
    "$NODE_SECRET" "$ledger" "$@"
}

# Stops serve (then removes the files given after the first three arguments) and reads everything back from
# a new one: a clean exit promises every acknowledged write, a failed one (which must say so) every synced one.
stop_and_verify() {
  local ledger=$1 log=$2 what=$3 rc=0 scope='' kind=synced
  shift 3
  sec_stop "$SEC_SERVE_PID" || rc=$?
  rm -f "$@"
  if [ "$rc" -eq 0 ]; then
    scope=all
    kind=acknowledged
  elif ! grep -q "final flush" "$log"; then
    bad "$what: serve exited $rc without saying that its final flush failed"
  fi
  echo "$what: serve exited $rc after SIGTERM"
  sec_serve "$DATA" "$SEC_SCRATCH/serve-verify-$RANDOM.log" --no-http
  if figures=$(client verify "$ledger" $scope); then
    ok "$what: no $kind write lost"
  else
    bad "$what: $kind writes lost"
  fi
  echo "$figures"
  sec_stop "$SEC_SERVE_PID" || true
}

# The write that fails, and how SYNCHRONIZE CACHE fared meanwhile, from a ledger.
check_full() {
  local ledger=$1 what=$2 sense syncs
  read -r sense syncs <<<"$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
writes = [f for f in s["failures"] if not f.get("sync")]
print(writes[-1]["sense"] if writes else "none", s["syncs_failed"])' "$ledger")"
  if [ "$sense" = "07/27/07" ]; then
    ok "$what: the write that found the disk full got DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT"
  else
    bad "$what: a write to the full disk ended with sense $sense, not 07/27/07 (SPACE ALLOCATION FAILED)"
  fi
  echo "$what: SYNCHRONIZE CACHE failed $syncs time(s) so far while the disk was full"
}

# Leaves $1 bytes free on the tmpfs.
ballast() {
  local avail
  avail=$(df --output=avail -B1 "$MOUNTS"/tmpfs | tail -n 1)
  fallocate -l $((avail - $1)) "$MOUNTS"/tmpfs/ballast
}

# --- 1. A full tmpfs -------------------------------------------------------------------------------------
mkdir -p "$MOUNTS"/tmpfs
mount -t tmpfs -o size=48m,mode=0700 tmpfs "$MOUNTS"/tmpfs
make_store "$MOUNTS"/tmpfs
LEDGER=$SEC_SCRATCH/ledger-1.json

# a) A fresh disk fills up and stays full through the shutdown.
LOG=$SEC_SCRATCH/serve-1.log
sec_serve "$DATA" "$LOG" --no-http
ballast $((6 * 1024 * 1024))
client fill "$LEDGER" || { cat "$LOG"; die "the initiator failed"; }
check_full "$LEDGER" "full at shutdown"
stop_and_verify "$LEDGER" "$LOG" "full at shutdown" "$MOUNTS"/tmpfs/ballast

# b) The disk fills up again, then space is freed while the node keeps writing.
LOG=$SEC_SCRATCH/serve-2.log
sec_serve "$DATA" "$LOG" --no-http
ballast $((3 * 1024 * 1024))
client fill "$LEDGER" "$MOUNTS"/tmpfs/ballast || { cat "$LOG"; die "the initiator failed"; }
check_full "$LEDGER" "full, then freed"
stop_and_verify "$LEDGER" "$LOG" "full, then freed"

umount "$MOUNTS"/tmpfs

# --- 2. The final flush fails ----------------------------------------------------------------------------
truncate -s 160M "$SEC_SCRATCH"/ext4.img
mkfs.ext4 -q -m 0 "$SEC_SCRATCH"/ext4.img
if ! LOOP=$(losetup -f --show "$SEC_SCRATCH"/ext4.img 2>/dev/null); then
  echo "SKIP: no loop device here for the failing final flush" >&2
  exit 77
fi
mkdir -p "$MOUNTS"/ext4
mount "$LOOP" "$MOUNTS"/ext4
make_store "$MOUNTS"/ext4
LOG=$SEC_SCRATCH/serve-3.log
sec_serve "$DATA" "$LOG" --no-http
LEDGER=$SEC_SCRATCH/ledger-2.json
client write "$LEDGER" 16 || { cat "$LOG"; die "the initiator failed"; }
sleep 1  # past the web service's and the catalog's own writes
# Writes acknowledged after the last SYNCHRONIZE CACHE wait for the final flush, which the dead disk fails.
python3 -c '
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 1))  # FS_IOC_SHUTDOWN, EXT4_GOING_FLAGS_LOGFLUSH' "$MOUNTS"/ext4
rc=0
sec_stop "$SEC_SERVE_PID" || rc=$?
if [ "$rc" -ne 0 ] && grep -q "final flush" "$LOG"; then
  ok "final flush failed: serve exited $rc with: $(grep -m1 'final flush' "$LOG" | cut -c26-)"
else
  bad "serve exited $rc after its final flush failed, $(grep -q 'final flush' "$LOG" && echo saying so ||
    echo without saying so)"
fi
umount "$MOUNTS"/ext4
mount "$LOOP" "$MOUNTS"/ext4
sec_serve "$DATA" "$SEC_SCRATCH/serve-4.log" --no-http
if figures=$(client verify "$LEDGER"); then
  ok "writes synced before the disk died survived it"
else
  bad "synced writes were lost when the disk died"
fi
echo "$figures"
sec_stop "$SEC_SERVE_PID" || true

[ ${#FAILURES[@]} -eq 0 ] || die "${#FAILURES[@]} check(s) failed"
