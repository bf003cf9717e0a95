#!/usr/bin/env bash
# The image store end to end through the real CLI: import a raw image, enrol three nodes, `bootherd serve`, and
# read a node's disk over iSCSI with libiscsi's tools and qemu-img using that node's initiator name and CHAP.
# Checks the content equals the image, a wrong secret is refused, and one node's identity cannot open
# another node's target.
source "$(dirname "$0")/lib.sh"

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }

# A 16 MiB raw image: random data in three places, zeros elsewhere.
IMG=$SCRATCH/base.raw
truncate -s 16M "$IMG"
dd if=/dev/urandom of="$IMG" bs=64K count=16 conv=notrunc status=none
dd if=/dev/urandom of="$IMG" bs=64K seek=100 count=3 conv=notrunc status=none
dd if=/dev/urandom of="$IMG" bs=4K seek=4095 count=1 conv=notrunc status=none

bh image import base "$IMG" >/dev/null || die "image import failed"
bh image versions base | grep -qE '^v1 +sealed .* \* ' || die "v1 is not listed as promoted"
vhdiinfo "$DATA/images/base/v1.vhdx" >/dev/null || die "vhdiinfo rejects the imported version"
ok "import: v1 sealed and promoted, readable by libvhdi"

# The CLI imports any file its user can read, but never an image that refers to another file.
qemu-img create -q -f qcow2 -b "$IMG" -F raw "$SCRATCH/backed.qcow2"
set +e
out=$(bh image import backed "$SCRATCH/backed.qcow2" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "refers to a backing file '$IMG'" <<<"$out" || die "a qcow2 with a backing file: rc=$rc $out"
[ "$(stat -c %a "$DATA")" = 700 ] && [ "$(stat -c %a "$DATA/catalog.db")" = 600 ] ||
  die "data directory or catalog not private: $(stat -c '%a %n' "$DATA" "$DATA/catalog.db")"
ok "import refuses an image with a backing file: $out"

# These nodes are reached from 127.0.0.1 without a PXE boot: address binding off, CHAP only.
for i in 1 2 3; do
  bh node add "pc$i" --mac "52:54:00:00:00:0$i" --image base --no-bind-address >/dev/null || die "node add pc$i failed"
done
[ "$(bh node list | tail -n +2 | wc -l)" -eq 3 ] || die "node list does not show 3 nodes"
ok "3 nodes enrolled"

# Errors: one line, non-zero exit.
set +e
out=$(bh image promote base 9 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || die "bad promote: rc=$rc output: $out"
set +e
out=$(bh node add pc1 --mac 52:54:00:00:00:09 --image base 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] || die "duplicate node name accepted"
ok "errors are one line with a non-zero exit: $out"

# Config file errors name the problem: an unknown key, a missing file.
CONF=$SCRATCH/bad.toml
printf '[node]\nlist-colour = "red"\n' >"$CONF"
set +e
out=$(bh node list --config "$CONF" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q 'unknown key node.list-colour (not an option of that subcommand)' <<<"$out" ||
  die "unknown config key: rc=$rc output: $out"
set +e
out=$(bh node list --config "$SCRATCH/missing.toml" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q 'missing.toml' <<<"$out" || die "missing config file: rc=$rc output: $out"
ok "config file: unknown key and missing file refused with the name"

field() { bh node show "$1" | sed -n "s/^$2=//p"; }
A_IQN=$(field pc1 target); A_INIT=$(field pc1 initiator); A_USER=$(field pc1 chap_user); A_SECRET=$(field pc1 chap_secret)
B_INIT=$(field pc2 initiator); B_USER=$(field pc2 chap_user); B_SECRET=$(field pc2 chap_secret)

SERVE_LOG=$SCRATCH/serve.log
"$BOOTHERD" serve --data "$DATA" --no-http --listen 127.0.0.1:0 >"$SERVE_LOG" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
PORT=
for _ in $(seq 100); do
  PORT=$(grep -oE 'on 127\.0\.0\.1:[0-9]+' "$SERVE_LOG" | head -n 1 | cut -d: -f2 || true)
  [ -n "$PORT" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$SERVE_LOG"; die "bootherd serve exited"; }
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$SERVE_LOG"; die "bootherd serve did not start"; }
ok "serve listening on port $PORT"

# Discovery (authenticated with the node's CHAP) shows a node only its own target.
listed=$(iscsi-ls -i "$A_INIT" "iscsi://$A_USER%$A_SECRET@127.0.0.1:$PORT" 2>&1) || die "iscsi-ls failed: $listed"
grep -q "$A_IQN" <<<"$listed" || die "discovery does not list pc1's target: $listed"
[ "$(grep -c 'Target:' <<<"$listed")" -eq 1 ] || die "discovery for pc1 lists other targets: $listed"
ok "discovery lists only the node's own target"

iscsi-inq -i "$A_INIT" "iscsi://$A_USER%$A_SECRET@127.0.0.1:$PORT/$A_IQN/0" >/dev/null || die "pc1 cannot inquire its disk"
ok "iscsi-inq with pc1's initiator and CHAP"

qemu-img convert --object "secret,id=sec0,data=$A_SECRET" --image-opts \
  "driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$A_IQN,lun=0,initiator-name=$A_INIT,user=$A_USER,password-secret=sec0" \
  -O raw "$SCRATCH/pc1.raw" || die "qemu-img cannot read pc1's disk"
cmp "$IMG" "$SCRATCH/pc1.raw" || die "pc1's disk differs from the imported image"
ok "pc1's disk read over iSCSI by qemu-img equals the image"

# A write lands in pc1's own disk; `node reset` (from another process, while serving) gives it a fresh one.
A_OPTS="driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$A_IQN,lun=0,initiator-name=$A_INIT,user=$A_USER,password-secret=sec0"
qemu-io --object "secret,id=sec0,data=$A_SECRET" --image-opts "$A_OPTS" -c "write -P 0xab 1M 64k" >/dev/null ||
  die "qemu-io cannot write to pc1's disk"
qemu-img convert --object "secret,id=sec0,data=$A_SECRET" --image-opts "$A_OPTS" -O raw "$SCRATCH/pc1-w.raw"
cmp -s "$IMG" "$SCRATCH/pc1-w.raw" && die "the write to pc1's disk did not land"
[ "$(cmp -l "$IMG" "$SCRATCH/pc1-w.raw" | awk '$1 <= 1048576 || $1 > 1114112' | wc -l)" -eq 0 ] ||
  die "the write changed bytes outside the written range"
bh node reset pc1 >/dev/null
qemu-img convert --object "secret,id=sec0,data=$A_SECRET" --image-opts "$A_OPTS" -O raw "$SCRATCH/pc1-r.raw"
cmp "$IMG" "$SCRATCH/pc1-r.raw" || die "after node reset pc1's disk is not the image"
ok "writes land in the node's disk; node reset while serving gives a fresh disk"

refused() {  # URL INITIATOR: the login must fail
  if iscsi-inq -i "$2" "$1" >/dev/null 2>&1; then die "login accepted: $1 as $2"; fi
}
refused "iscsi://$A_USER%wrong-secret-123@127.0.0.1:$PORT/$A_IQN/0" "$A_INIT"
ok "a wrong CHAP secret is refused"
refused "iscsi://$B_USER%$B_SECRET@127.0.0.1:$PORT/$A_IQN/0" "$B_INIT"
refused "iscsi://$B_USER%$B_SECRET@127.0.0.1:$PORT/$A_IQN/0" "$A_INIT"
refused "iscsi://$A_USER%$A_SECRET@127.0.0.1:$PORT/$A_IQN/0" "$B_INIT"
ok "pc2's initiator name or credentials cannot open pc1's target"

# A draft appears as its own target for a maintenance machine, while serve runs, with the draft's own CHAP
# credentials (shown by `image edit` and `image show`, never logged).
edited=$(bh image edit base)
shown=$(bh image show base)
D_USER=$(sed -n 's/^  CHAP user \([^,]*\), secret .*/\1/p' <<<"$shown")
D_SECRET=$(sed -n 's/^  CHAP user [^,]*, secret \(.*\)$/\1/p' <<<"$shown")
[ -n "$D_USER" ] && [ -n "$D_SECRET" ] || die "image show gives no CHAP credentials for the draft: $shown"
grep -qF "secret $D_SECRET" <<<"$edited" || die "image edit does not show the draft's CHAP credentials: $edited"
grep -qF "$D_SECRET" "$SERVE_LOG" && die "the draft's CHAP secret is in the server log"
iscsi-inq -i iqn.2026-11.org.example:maint \
  "iscsi://$D_USER%$D_SECRET@127.0.0.1:$PORT/iqn.2026-11.org.bootherd:draft.base/0" >/dev/null ||
  die "the draft target cannot be opened with the draft's credentials"
refused "iscsi://$A_USER%$A_SECRET@127.0.0.1:$PORT/iqn.2026-11.org.bootherd:draft.base/0" iqn.2026-11.org.example:maint
ok "the draft is served for maintenance with its own CHAP credentials only"

# While a maintenance machine is logged in to the draft, commit and discard are refused (the server holds the
# draft's write lock); once it logs out the server closes the draft and commit goes through.
DRAFT_URL="iscsi://$D_USER%$D_SECRET@127.0.0.1:$PORT/iqn.2026-11.org.bootherd:draft.base/0"
opened_before=$(grep -c 'serving images/base/v2.vhdx' "$SERVE_LOG" || true)
iscsi-perf -i iqn.2026-11.org.example:maint -t 120 "$DRAFT_URL" >"$SCRATCH/maint.out" 2>&1 &
MAINT_PID=$!
PIDS+=("$MAINT_PID")
for _ in $(seq 100); do
  [ "$(grep -c 'serving images/base/v2.vhdx' "$SERVE_LOG" || true)" -gt "$opened_before" ] && break
  sleep 0.1
done
[ "$(grep -c 'serving images/base/v2.vhdx' "$SERVE_LOG" || true)" -gt "$opened_before" ] ||
  die "the maintenance session did not open the draft: $(cat "$SCRATCH/maint.out")"
for action in commit "discard --yes"; do
  set +e
  # shellcheck disable=SC2086
  out=$(bh image $action base 2>&1); rc=$?
  set -e
  [ "$rc" -ne 0 ] && grep -q "open for writing" <<<"$out" && grep -q "draft.base" <<<"$out" ||
    die "image $action of a draft in use was not refused: rc=$rc $out"
done
bh image versions base | grep -qE '^v2 +draft' || die "the refused commands changed the draft"
ok "commit and discard refused while a maintenance machine is logged in: $out"
kill -TERM "$MAINT_PID"
wait "$MAINT_PID" 2>/dev/null || true
committed=
for _ in $(seq 50); do
  if bh image commit base >/dev/null 2>&1; then committed=yes; break; fi
  sleep 0.2
done
[ -n "$committed" ] || die "commit still refused after the maintenance machine logged out"
bh image versions base | grep -qE '^v2 +sealed' || die "v2 is not sealed after commit"
ok "after logout the draft is closed by the server and commit seals it"

kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
[ "$rc" -eq 0 ] || { cat "$SERVE_LOG"; die "bootherd serve exited with $rc after SIGTERM"; }
ok "serve stopped cleanly"

# CSV import: all rows or none, problems named by line.
printf 'name,mac,image\npc4,52:54:00:00:00:04,base\npc5,not-a-mac,base\n' >"$SCRATCH/bad.csv"
set +e
out=$(bh node import "$SCRATCH/bad.csv" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "bad.csv:3: mac" <<<"$out" || die "bad CSV not refused by line: $out"
[ "$(bh node list | tail -n +2 | wc -l)" -eq 3 ] || die "a refused CSV enrolled nodes"
printf 'name,mac,image\npc4,52:54:00:00:00:04,base\npc5,52:54:00:00:00:05,base\n' >"$SCRATCH/good.csv"
bh node import "$SCRATCH/good.csv" >/dev/null || die "good CSV refused"
[ "$(bh node list | tail -n +2 | wc -l)" -eq 5 ] || die "CSV import did not enrol 2 nodes"
ok "node import: a bad row refuses the file with its line; a good file enrols every row"
