#!/usr/bin/env bash
# Maintenance from a machine, through the real CLI and a running `bootherd serve`: `image edit base --on pc1`
# makes pc1's next boot script sanboot the draft with the draft's own CHAP; the draft target then admits pc1's
# initiator name alone (and, for a node that binds, only from its boot address); `image commit` is refused
# while pc1 is logged in to the draft, naming it, and accepted once it logs out; pc1's next script points at its
# own disk again, which (after promote) holds what the maintenance boot wrote.
source "$(dirname "$0")/lib.sh"

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }
refused() { # URL INITIATOR: the login must fail
  if iscsi-inq -i "$2" "$1" >/dev/null 2>&1; then die "login accepted: $1 as $2"; fi
}

IMG=$SCRATCH/base.raw
truncate -s 16M "$IMG"
dd if=/dev/urandom of="$IMG" bs=64K count=16 conv=notrunc status=none
bh image import base "$IMG" >/dev/null
bh node add pc1 --mac 52:54:00:00:01:01 --image base --no-bind-address >/dev/null # reached from 127.0.0.1
bh node add pc2 --mac 52:54:00:00:01:02 --image base >/dev/null                    # binds (the default)
field() { bh node show "$1" | sed -n "s/^$2=//p"; }
P1_IQN=$(field pc1 target); P1_INIT=$(field pc1 initiator); P1_SECRET=$(field pc1 chap_secret)
P2_INIT=$(field pc2 initiator)

start_serve "$DATA"
script() { curl -sf "http://127.0.0.1:$HTTP/boot/$1.ipxe"; }
DRAFT_IQN=iqn.2026-11.org.bootherd:draft.base

s=$(script 52:54:00:00:01:01) || die "no boot script for pc1"
grep -qF ":0:$P1_IQN " <<<"$s" || die "pc1's script does not sanboot its own disk: $s"
ok "before maintenance pc1's script sanboots its own disk"

# --- edit --on: pc1 boots the draft ---
edited=$(bh image edit base --on pc1) || die "image edit --on failed"
grep -q '^draft v2 of base' <<<"$edited" && grep -q 'maintenance machine: node pc1' <<<"$edited" ||
  die "image edit --on does not say what it did: $edited"
shown=$(bh image show base)
D_USER=$(sed -n 's/^  CHAP user \([^,]*\), secret .*/\1/p' <<<"$shown")
D_SECRET=$(sed -n 's/^  CHAP user [^,]*, secret \(.*\)$/\1/p' <<<"$shown")
[ -n "$D_USER" ] && [ -n "$D_SECRET" ] || die "image show gives no draft credentials: $shown"
grep -q 'maintenance machine: node pc1' <<<"$shown" || die "image show does not name the maintenance machine: $shown"
[ "$(field pc1 maintenance)" = base ] && [ "$(field pc1 maintenance_version)" = 2 ] ||
  die "node show does not show pc1's maintenance: $(bh node show pc1)"
bh node list | grep -E '^pc1 ' | grep -q 'draft v2 of base' || die "node list does not show pc1's maintenance"
bh node list | grep -E '^pc2 ' | grep -q 'draft v' && die "node list shows pc2 in maintenance"
ok "image edit --on pc1: image show, node show and node list name the maintenance machine"

again=$(bh image edit base --on pc1) || die "a second edit --on pc1 failed"
grep -q '^existing draft v2 of base' <<<"$again" || die "a second edit --on pc1 made another draft: $again"
ok "edit --on the same node again keeps the draft"

s=$(script 52:54:00:00:01:01) || die "no boot script for pc1 in maintenance"
grep -qF "sanboot iscsi:127.0.0.1::$PORT:0:$DRAFT_IQN " <<<"$s" || die "pc1's script does not sanboot the draft: $s"
grep -qxF "set initiator-iqn $P1_INIT" <<<"$s" && grep -qxF "set username $D_USER" <<<"$s" &&
  grep -qxF "set password $D_SECRET" <<<"$s" || die "pc1's maintenance script lacks its initiator or the draft's CHAP: $s"
grep -qF "$P1_SECRET" <<<"$s" && die "the maintenance script carries pc1's own secret"
grep -qF "$D_SECRET" "$SERVE_LOG" && die "the draft's CHAP secret is in the server log"
ok "pc1's next script sanboots the draft with pc1's initiator and the draft's own CHAP (not in the log)"

DRAFT_URL="iscsi://$D_USER%$D_SECRET@127.0.0.1:$PORT/$DRAFT_IQN/0"
iscsi-inq -i "$P1_INIT" "$DRAFT_URL" >/dev/null || die "the draft does not admit pc1"
refused "$DRAFT_URL" iqn.2026-11.org.example:admin
refused "$DRAFT_URL" "$P2_INIT"
refused "iscsi://$D_USER%wrong-secret-1234@127.0.0.1:$PORT/$DRAFT_IQN/0" "$P1_INIT"
ok "the draft target admits pc1's initiator with the draft's CHAP, nobody else"
logins() {
  sqlite3 "file:$DATA/catalog.db?mode=ro" "SELECT count(*) FROM events e JOIN nodes n ON n.id = e.node_id
    WHERE n.name = '$1' AND e.kind LIKE 'iscsi.login%' AND e.detail LIKE '%$2%'"
}
for _ in $(seq 50); do [ "$(logins pc1 "$P1_INIT")" -gt 0 ] && break; sleep 0.1; done
[ "$(logins pc1 "$P1_INIT")" -gt 0 ] || die "pc1's login to the draft is not on its boot timeline"
ok "pc1's login to the draft is recorded as its boot step"

D_OPTS="driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$DRAFT_IQN,lun=0,initiator-name=$P1_INIT,user=$D_USER,password-secret=sec0"
qemu-io --object "secret,id=sec0,data=$D_SECRET" --image-opts "$D_OPTS" -c "write -P 0x5a 2M 64k" >/dev/null ||
  die "pc1 cannot write to the draft"
ok "pc1 writes to the draft"

# --- commit while pc1 is logged in: refused, naming it ---
opened_before=$(grep -c 'serving images/base/v2.vhdx' "$SERVE_LOG" || true)
iscsi-perf -i "$P1_INIT" -t 120 "$DRAFT_URL" >"$SCRATCH/perf.out" 2>&1 &
PERF_PID=$!
PIDS+=("$PERF_PID")
for _ in $(seq 100); do
  [ "$(grep -c 'serving images/base/v2.vhdx' "$SERVE_LOG" || true)" -gt "$opened_before" ] && break
  sleep 0.1
done
[ "$(grep -c 'serving images/base/v2.vhdx' "$SERVE_LOG" || true)" -gt "$opened_before" ] ||
  die "pc1's session did not open the draft: $(cat "$SCRATCH/perf.out")"
expect_fail "node pc1 is still logged in to the draft of image 'base': shut it down first" bh image commit base
ok "commit refused while pc1 is logged in: $OUT"
expect_fail "node pc1 is still logged in to the draft of image 'base'" bh image discard base --yes
expect_fail "node pc1 is still logged in to the draft of image 'base'" bh image edit base --on pc2
[ "$(field pc1 maintenance)" = base ] && [ -z "$(field pc2 maintenance)" ] || die "a refused edit --on moved the maintenance"
bh image versions base | grep -qE '^v2 +draft' || die "the refused commands changed the draft"
ok "discard and a new maintenance machine are refused too while pc1 is logged in"

kill -TERM "$PERF_PID"
wait "$PERF_PID" 2>/dev/null || true
committed=
for _ in $(seq 50); do
  if bh image commit base >"$SCRATCH/commit.out" 2>&1; then committed=yes; break; fi
  sleep 0.2
done
[ -n "$committed" ] || die "commit still refused after pc1 logged out: $(cat "$SCRATCH/commit.out")"
bh image versions base | grep -qE '^v2 +sealed' || die "v2 is not sealed"
[ -z "$(field pc1 maintenance)" ] || die "pc1 is still in maintenance after commit"
refused "$DRAFT_URL" "$P1_INIT"
ok "after logout commit seals v2 and ends the maintenance"

bh image promote base 2 >/dev/null
s=$(script 52:54:00:00:01:01) || die "no boot script for pc1 after commit"
grep -qF ":0:$P1_IQN " <<<"$s" && grep -qxF "set password $P1_SECRET" <<<"$s" ||
  die "after commit pc1's script does not sanboot its own disk: $s"
A_OPTS="driver=iscsi,transport=tcp,portal=127.0.0.1:$PORT,target=$P1_IQN,lun=0,initiator-name=$P1_INIT,user=$(field pc1 chap_user),password-secret=sec0"
qemu-img convert --object "secret,id=sec0,data=$P1_SECRET" --image-opts "$A_OPTS" -O raw "$SCRATCH/pc1.raw"
[ "$(od -An -tx1 -j $((2 * 1024 * 1024)) -N 4 "$SCRATCH/pc1.raw" | tr -d ' ')" = 5a5a5a5a ] ||
  die "pc1's own disk on v2 does not hold what the maintenance boot wrote"
ok "pc1's next script sanboots its own disk again, on v2 with the maintenance write"

# --- a node that binds: the draft admits it only from its boot address ---
bh image edit base --on pc2 >/dev/null || die "image edit --on pc2 failed"
shown=$(bh image show base)
D_USER=$(sed -n 's/^  CHAP user \([^,]*\), secret .*/\1/p' <<<"$shown")
D_SECRET=$(sed -n 's/^  CHAP user [^,]*, secret \(.*\)$/\1/p' <<<"$shown")
DRAFT_URL="iscsi://$D_USER%$D_SECRET@127.0.0.1:$PORT/$DRAFT_IQN/0"
grep -q 'maintenance machine: node pc2 (initiator .*, from its boot address' <<<"$shown" || die "image show: $shown"
refused "$DRAFT_URL" "$P2_INIT"
ok "pc2 (binds, no script served yet) cannot log in to the draft"
set_boot_address() { sqlite3 "$DATA/catalog.db" "UPDATE nodes SET boot_address = '$2' WHERE name = '$1'"; }
set_boot_address pc2 127.0.0.2
refused "$DRAFT_URL" "$P2_INIT"
set_boot_address pc2 127.0.0.1
iscsi-inq -i "$P2_INIT" "$DRAFT_URL" >/dev/null || die "the draft does not admit pc2 from its boot address"
ok "pc2 is admitted to the draft from its boot address only"

# Nobody is logged in: another maintenance machine replaces pc2.
bh image edit base --on pc1 | grep -q '^existing draft v3 of base' || die "edit --on pc1 did not take over draft v3"
[ "$(field pc1 maintenance)" = base ] && [ -z "$(field pc2 maintenance)" ] || die "pc1 did not replace pc2"
refused "$DRAFT_URL" "$P2_INIT"
iscsi-inq -i "$P1_INIT" "$DRAFT_URL" >/dev/null || die "the draft does not admit its new maintenance machine"
bh image discard base --yes >/dev/null
[ -z "$(field pc1 maintenance)" ] || die "pc1 is still in maintenance after discard"
s=$(script 52:54:00:00:01:01)
grep -qF ":0:$P1_IQN " <<<"$s" || die "after discard pc1's script does not sanboot its own disk: $s"
ok "a new maintenance machine replaces the old one while nobody is logged in; discard ends it"

expect_fail "node 'nosuch' does not exist" bh image edit base --on nosuch
expect_fail "image 'nosuch' does not exist" bh image edit nosuch --on pc1
ok "edit --on an unknown node or image is refused: $OUT"

stop_serve
ok "serve stopped cleanly"
