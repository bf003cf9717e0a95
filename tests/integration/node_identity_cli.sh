#!/usr/bin/env bash
# Each machine is itself, through the real CLI: `node add/set --hostname --ip`, `node list/show`, CSV hostname
# and ip columns, clear one-line refusals for shared or unusable values, and the boot script a served node
# fetches setting its host name (iPXE copies it into the iBFT). Loopback only, no root needed.
source "$(dirname "$0")/lib.sh"

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }

# Refused: non-zero exit, one line naming the problem, never SQLite's own words.
refused() {
  local expect=$1
  shift
  local out rc
  set +e
  out=$(bh "$@" 2>&1)
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || die "accepted: $*"
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || die "not one line for $*: $out"
  grep -q -- "$expect" <<<"$out" || die "no '$expect' in the refusal of $*: $out"
  if grep -qi 'constraint\|sqlite' <<<"$out"; then die "raw database error for $*: $out"; fi
  echo "  refused: $out"
}
field() { bh node show "$1" | sed -n "s/^$2=//p"; }

truncate -s 4M "$SCRATCH/base.raw"
bh image import base "$SCRATCH/base.raw" >/dev/null || die "image import failed"

bh node add pc1 --mac 52:54:00:00:01:01 --image base --hostname Desk-1 --ip 10.77.0.11 --no-bind-address \
  >/dev/null || die "node add with --hostname --ip failed"
bh node add pc2 --mac 52:54:00:00:01:02 --image base >/dev/null || die "node add pc2 failed"
[ "$(field pc1 hostname)" = desk-1 ] && [ "$(field pc1 ip)" = 10.77.0.11 ] ||
  die "node show pc1: $(bh node show pc1)"
[ "$(field pc2 hostname)" = pc2 ] && [ -z "$(field pc2 ip)" ] || die "node show pc2: $(bh node show pc2)"
bh node list | grep -qE '^pc1 +52:54:00:00:01:01 +desk-1 +10\.77\.0\.11 ' || die "node list: $(bh node list)"
ok "node add --hostname --ip; show and list print them; a node without one goes by its name"

refused "already fixed for node 'pc1'" node add pc3 --mac 52:54:00:00:01:03 --ip 10.77.0.11
refused "already used by node 'pc1'" node add pc3 --mac 52:54:00:00:01:03 --hostname DESK-1
refused "not a valid host name" node add pc3 --mac 52:54:00:00:01:03 --hostname -bad-
refused "not a host address" node add pc3 --mac 52:54:00:00:01:03 --ip 127.0.0.5
refused "not an IPv4 address" node add pc3 --mac 52:54:00:00:01:03 --ip 10.77.0.256
refused "already fixed for node 'pc1'" node set pc2 --ip 10.77.0.11
refused "already used by node 'pc2'" node set pc1 --hostname pc2
[ "$(bh node list | tail -n +2 | wc -l)" -eq 2 ] || die "a refused node was enrolled"
ok "shared or unusable host names and addresses are refused with one clear line"

bh node set pc2 --hostname desk-2 --ip 10.77.0.12 >/dev/null || die "node set --hostname --ip failed"
[ "$(field pc2 hostname)" = desk-2 ] && [ "$(field pc2 ip)" = 10.77.0.12 ] || die "node set: $(bh node show pc2)"
bh node set pc2 --no-hostname --no-ip >/dev/null || die "node set --no-hostname --no-ip failed"
[ "$(field pc2 hostname)" = pc2 ] && [ -z "$(field pc2 ip)" ] || die "node set --no-*: $(bh node show pc2)"
ok "node set --hostname/--no-hostname, --ip/--no-ip"

printf 'name,mac,image,hostname,ip\npc4,52:54:00:00:01:04,base,desk-4,10.77.0.14\npc5,52:54:00:00:01:05,base,,10.77.0.11\n' \
  >"$SCRATCH/bad.csv"
set +e
out=$(bh node import "$SCRATCH/bad.csv" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "bad.csv:3: ip: address 10.77.0.11 is already fixed for node 'pc1'" <<<"$out" ||
  die "CSV with a taken address: rc=$rc $out"
printf 'name,mac,image,hostname,ip\npc4,52:54:00:00:01:04,base,desk-4,10.77.0.14\npc5,52:54:00:00:01:05,base,,\n' \
  >"$SCRATCH/good.csv"
bh node import "$SCRATCH/good.csv" >/dev/null || die "good CSV with hostname and ip refused"
printf 'name,mac,image\npc6,52:54:00:00:01:06,base\n' >"$SCRATCH/old.csv"
bh node import "$SCRATCH/old.csv" >/dev/null || die "a CSV without the new columns refused"
[ "$(field pc4 hostname)" = desk-4 ] && [ "$(field pc4 ip)" = 10.77.0.14 ] && [ "$(field pc5 hostname)" = pc5 ] ||
  die "CSV columns not imported: $(bh node show pc4)"
ok "CSV hostname and ip columns; a taken address refuses the file by line; old files still import"

# The boot script of a served node sets its host name.
SERVE_LOG=$SCRATCH/serve.log
"$BOOTHERD" serve --data "$DATA" --listen 127.0.0.1:0 --listen-http 127.0.0.1:0 --advertise 127.0.0.1 \
  >"$SERVE_LOG" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
HTTP_PORT=
for _ in $(seq 100); do
  HTTP_PORT=$(grep -oE 'web on [0-9.]+:[0-9]+' "$SERVE_LOG" | head -n 1 | cut -d: -f2 || true)
  [ -n "$HTTP_PORT" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$SERVE_LOG"; die "bootherd serve exited"; }
  sleep 0.1
done
[ -n "$HTTP_PORT" ] || { cat "$SERVE_LOG"; die "bootherd serve did not start"; }
script=$(curl -fsS "http://127.0.0.1:$HTTP_PORT/boot/52:54:00:00:01:01.ipxe") || die "no boot script for pc1"
grep -qx 'set hostname desk-1' <<<"$script" || die "boot script does not set the host name: $script"
ok "the boot script sets the host name: $(grep hostname <<<"$script")"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || die "serve did not stop cleanly"
