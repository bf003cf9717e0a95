#!/usr/bin/env bash
# Three `bootherd serve` on one PostgreSQL catalog (docs/SCALE-OUT.md), all on 127.0.0.1: servers 2 and 3
# pull the image version from server 1 (verified against its SHA-256); sixty machines that all fetch their boot
# script from server 1 and log in at server 1's portal end up homed, and served, on all three (libiscsi follows
# the login redirect); a server killed with -9 stops heartbeating and its machines are served by the others at
# their next boot; a server that finds its copy corrupted withdraws it and pulls a verified one; while
# PostgreSQL is stopped, booted machines keep their I/O and homed machines still boot. Server 2's live event
# stream shows the boots server 1 records.
# Runs under tests/with_postgres.sh, which starts a private PostgreSQL 15 (BOOTHERD_TEST_CATALOG).
source "$(dirname "$0")/lib.sh"
: "${BOOTHERD_TEST_CATALOG:?run this under tests/with_postgres.sh}"
export BOOTHERD_CATALOG=$BOOTHERD_TEST_CATALOG
MACHINES=60

# One image, v1, imported through server 1's data directory: sealed with its SHA-256.
head -c 8M /dev/urandom >"$SCRATCH/golden.raw"
"$BOOTHERD" image import base "$SCRATCH/golden.raw" --data "$SCRATCH/d1" >/dev/null || die "image import failed"
"$BOOTHERD" group add storm --image base --no-bind-address --data "$SCRATCH/d1" >/dev/null || die "group add failed"
{
  echo "name,mac,group"
  for i in $(seq 1 $MACHINES); do printf 'pc%02d,52:54:00:00:10:%02x,storm\n' "$i" "$i"; done
} >"$SCRATCH/machines.csv"
"$BOOTHERD" node import "$SCRATCH/machines.csv" --data "$SCRATCH/d1" >/dev/null || die "node import failed"

declare -A ISCSI HTTP_PORT SPID SLOG
start_server() {
  local n=$1
  ISCSI[$n]=$(free_port)
  HTTP_PORT[$n]=$(free_port)
  SLOG[$n]=$SCRATCH/serve-$n.log
  "$BOOTHERD" serve --data "$SCRATCH/d$n" --listen "127.0.0.1:${ISCSI[$n]}" \
    --listen-http "127.0.0.1:${HTTP_PORT[$n]}" --server-name "s$n" --server-url "http://127.0.0.1:${HTTP_PORT[$n]}" \
    --heartbeat-seconds 1 \
    --server-timeout-seconds 4 >"${SLOG[$n]}" 2>&1 &
  SPID[$n]=$!
  PIDS+=("${SPID[$n]}")
}
psql_q() { psql -X -A -t -q "$BOOTHERD_TEST_CATALOG" -c "$1"; }
copies() { psql_q "SELECT count(*) FROM server_versions c JOIN servers s ON s.id = c.server_id WHERE s.name IN ($1)"; }
v1_sha=$(psql_q "SELECT sha256 FROM versions WHERE number = 1")
# Waits until the servers named (SQL list) all hold a verified copy of v1.
wait_copies() {
  local want=$1 names=$2 i
  for i in $(seq 300); do
    [ "$(copies "$names")" -eq "$want" ] && return 0
    for n in 1 2 3; do [ -z "${SPID[$n]:-}" ] || kill -0 "${SPID[$n]}" 2>/dev/null || { cat "${SLOG[$n]}"; die "server $n exited"; }; done
    sleep 0.2
  done
  tail -n 20 "${SLOG[@]}"
  die "servers $names do not all hold a verified copy of v1"
}

start_server 1
wait_copies 1 "'s1'"
start_server 2
start_server 3
wait_copies 3 "'s1','s2','s3'"
for n in 2 3; do
  for i in $(seq 50); do grep -q "pulled version" "${SLOG[$n]}" && break; sleep 0.2; done
  grep -qE "pulling version .* from s[12]" "${SLOG[$n]}" && grep -q "pulled version" "${SLOG[$n]}" ||
    die "server s$n holds v1 without having pulled it"
  [ "$(sha256sum <"$SCRATCH/d$n/images/base/v1.vhdx" | cut -d' ' -f1)" = "$v1_sha" ] || die "s$n's copy of v1 differs"
done
ok "servers 2 and 3 pulled v1 over HTTP from a server holding it, each copy verified against the SHA-256 recorded at seal"

# The servers as management sees them: GET /api/v1/servers on server 2 (a read token of the shared catalog)
# and `bootherd server list --json` on the catalog, both with the servers' 4 s timeout.
read_token=$("$BOOTHERD" token create cluster-view --scope read --json --data "$SCRATCH/d2" </dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') || die "token create failed"
servers_api() { curl -sf -H "Authorization: Bearer $read_token" "http://127.0.0.1:${HTTP_PORT[2]}/api/v1/servers"; }
servers_cli() { "$BOOTHERD" server list --json --server-timeout-seconds 4 --data "$SCRATCH/d1" </dev/null; }
# check_servers WHAT EXPR: EXPR (Python, over `d` and `s`: the servers by name) holds for both.
check_servers() {
  local what=$1 expr=$2 out from
  for from in api cli; do
    out=$("servers_$from") || die "servers from the $from failed: $out"
    python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
s = {x["name"]: x for x in d["items"]}
p = dict(arg.split("=") for arg in sys.argv[2:])
if not ('"$expr"'):
    sys.exit("servers (" + sys.argv[1] + "): " + json.dumps(d, indent=1))' "$from" \
      "s1=127.0.0.1:${ISCSI[1]}" "s2=127.0.0.1:${ISCSI[2]}" "s3=127.0.0.1:${ISCSI[3]}" <<<"$out" || die "$what"
  done
}
check_servers "not all three servers live, holding base v1" \
  'd["heartbeat_timeout_s"] == 4 and sorted(s) == ["s1", "s2", "s3"] and all(x["live"] and x["iscsi_portal"] == p[n]
   and x["versions"] == [{"image": "base", "version": 1}] and x["homed"] == 0 for n, x in s.items())'
ok "GET /api/v1/servers on server 2 and bootherd server list --json: s1, s2, s3 live, at their portals, each holding base v1"

# Server 2's live event stream, open during the boots below: it shows the events server 1 records.
curl -sN -H "Authorization: Bearer $read_token" "http://127.0.0.1:${HTTP_PORT[2]}/api/v1/events/stream" \
  >"$SCRATCH/stream-2" &
PIDS+=("$!")

homes() { psql_q "SELECT s.name, count(*) FROM nodes n JOIN servers s ON s.id = n.home_server_id GROUP BY s.name ORDER BY s.name" | tr '\n' ' '; }

# A machine's boot: its script from server 1, then its login at the portal the script names (server 1's),
# which libiscsi follows to wherever the machine is homed; the READ CAPACITY goes to that server.
boot() {
  local mac=$1 s target init user secret
  s=$(curl -sf "http://127.0.0.1:${HTTP_PORT[1]}/boot/$mac.ipxe") || die "no boot script for $mac"
  target=$(sed -n 's/^sanboot iscsi:127\.0\.0\.1::[0-9]*:0:\([^ ]*\).*/\1/p' <<<"$s")
  grep -qF "sanboot iscsi:127.0.0.1::${ISCSI[1]}:0:" <<<"$s" || die "the script of $mac does not name server 1: $s"
  init=$(sed -n 's/^set initiator-iqn //p' <<<"$s")
  user=$(sed -n 's/^set username //p' <<<"$s")
  secret=$(sed -n 's/^set password //p' <<<"$s")
  iscsi-readcapacity16 -i "$init" "iscsi://$user%$secret@127.0.0.1:${ISCSI[1]}/$target/0" >/dev/null 2>&1 ||
    { tail -n 15 "${SLOG[@]}"; die "$mac could not log in through server 1 ($target)"; }
}
macs() { for i in $(seq 1 $MACHINES); do printf '52:54:00:00:10:%02x\n' "$i"; done; }

for mac in $(macs); do boot "$mac"; done
spread=$(homes)
echo "homes after $MACHINES boots through server 1: $spread"
for n in 1 2 3; do grep -qE "(^| )s$n\|20( |$)" <<<"$spread" || die "server s$n does not home 20 machines: $spread"; done
redirects=$(grep -c "iSCSI login redirected" "${SLOG[1]}" || true)
[ "$redirects" -eq 40 ] || die "server 1 redirected $redirects logins, not the 40 homed elsewhere"
for n in 2 3; do
  served=$(grep -c "serving nodes/" "${SLOG[$n]}" || true)
  [ "$served" -eq 20 ] || die "server s$n served $served machine disks, not 20"
done
for n in 2 3; do
  disks=$(find "$SCRATCH/d$n/nodes" -name '*.vhdx' 2>/dev/null | wc -l)
  [ "$disks" -eq 20 ] || die "server s$n made $disks machine disks, not 20"
done
ok "60 machines through server 1: 20 homed on each server, 40 logins redirected, each disk made on its home"
fetches() { grep -c '"step":"script.fetched"' "$SCRATCH/stream-2" || true; }
for i in $(seq 50); do [ "$(fetches)" -ge $MACHINES ] && break; sleep 0.2; done
[ "$(fetches)" -eq $MACHINES ] || die "server 2's event stream showed $(fetches) of the $MACHINES script fetches on server 1"
grep -q "listening for new events on postgresql://" "${SLOG[2]}" || die "server 2 does not listen for new events"
grep -q "live event notices stopped" "${SLOG[2]}" && die "server 2 lost its event notices: $(grep notices "${SLOG[2]}")"
ok "server 2's live event stream showed the $MACHINES script fetches server 1 recorded (LISTEN/NOTIFY)"

# Server 3 dies; once its heartbeat is stale its machines go elsewhere at their next boot.
on_s3=$(psql_q "SELECT n.mac FROM nodes n JOIN servers s ON s.id = n.home_server_id WHERE s.name = 's3'")
kill -9 "${SPID[3]}"
sleep 6
for mac in $on_s3; do boot "$mac"; done
after=$(homes)
echo "homes after server 3 died and its machines booted again: $after"
grep -q 's3|' <<<"$after" && die "machines are still homed on the dead server: $after"
for n in 1 2; do grep -qE "(^| )s$n\|30( |$)" <<<"$after" || die "server s$n does not home 30 machines: $after"; done
ok "server 3 killed: its 20 machines booted from servers 1 and 2 (10 each)"
check_servers "s3 is not down, or the homes are not 30/30/0" \
  '[(n, x["live"], x["homed"]) for n, x in sorted(s.items())] == [("s1", True, 30), ("s2", True, 30), ("s3", False, 0)]'
"$BOOTHERD" server list --server-timeout-seconds 4 --data "$SCRATCH/d1" | grep -qE '^s3 +down ' ||
  die "server list does not show s3 down: $("$BOOTHERD" server list --server-timeout-seconds 4 --data "$SCRATCH/d1")"
ok "after the kill the API and server list show s3 down, homing nothing, s1 and s2 live with 30 machines each"

# Server 3 comes back with a corrupted copy: it withdraws it, pulls a verified one, then takes machines again.
printf 'X' | dd of="$SCRATCH/d3/images/base/v1.vhdx" bs=1 seek=4096 conv=notrunc status=none
start_server 3
for i in $(seq 100); do grep -q "does not match its SHA-256" "${SLOG[3]}" && break; sleep 0.1; done
grep -q "does not match its SHA-256" "${SLOG[3]}" || { cat "${SLOG[3]}"; die "s3 did not notice its corrupted copy"; }
wait_copies 3 "'s1','s2','s3'"
[ "$(sha256sum <"$SCRATCH/d3/images/base/v1.vhdx" | cut -d' ' -f1)" = "$v1_sha" ] || die "s3's copy is still corrupted"
[ -f "$SCRATCH/d3/images/base/v1.vhdx.corrupt" ] || die "s3 did not keep its corrupted copy aside"
for mac in $(macs | head -n 6); do boot "$mac"; done
grep -qE "(^| )s3\|6( |$)" <<<"$(homes)" || die "the least-loaded server s3 did not take the 6 machines: $(homes)"
ok "s3 restarted with a corrupted copy: withdrew it, pulled a verified one, then took the next 6 machines"

# PostgreSQL stops (docs/SCALE-OUT.md, "The catalog goes down"). Sessions opened before keep reading and
# writing; a machine homed on server 1 still gets its script and logs in there, and a login for one homed on
# server 2 is still redirected there: each server goes by what it last read. Management answers 503 meanwhile.
# Once PostgreSQL is back, management answers and the events of the outage are in the catalog, with the times
# they happened.
iscsi_load=$(dirname "$BOOTHERD")/../bench/iscsi_load
[ -x "$iscsi_load" ] || die "iscsi_load is not built ($iscsi_load)"
homed_on() { psql_q "SELECT n.mac FROM nodes n JOIN servers s ON s.id = n.home_server_id WHERE s.name = '$1' ORDER BY n.name LIMIT $2" | tr '\n' ' '; }
read -r mac_writes mac_reads mac_boots <<<"$(homed_on s1 3)"
read -r mac_elsewhere <<<"$(homed_on s2 1)"
[ -n "$mac_boots" ] && [ -n "$mac_elsewhere" ] || die "not enough machines homed on s1 and s2: $(homes)"
# A booted machine's session as its OS opens it: its identity from the catalog, at server 1's portal.
declare -A URL INITIATOR
for mac in "$mac_writes" "$mac_reads" "$mac_elsewhere"; do
  read -r iqn user secret <<<"$(psql_q "SELECT iqn || ' ' || chap_user || ' ' || chap_secret FROM nodes WHERE mac = '$mac'")"
  URL[$mac]="iscsi://$user%$secret@127.0.0.1:${ISCSI[1]}/$iqn/0"
  INITIATOR[$mac]="$iqn:initiator"
done
api_status() {
  curl -s -o "$SCRATCH/api.out" -w '%{http_code}' -H "Authorization: Bearer $read_token" "http://127.0.0.1:${HTTP_PORT[$1]}/api/v1/nodes"
}
[ "$(api_status 2)" = 200 ] || die "management does not answer before the outage: $(cat "$SCRATCH/api.out")"

# Both log in now and start their I/O 4 s later, when PostgreSQL is already down; it is started again only
# after they are done, so all their I/O happens during the outage.
"$iscsi_load" --url "${URL[$mac_writes]}" --initiator "${INITIATOR[$mac_writes]}" --op write --bs 4096 --qd 4 \
  --idle 4 --seconds 5 >"$SCRATCH/writes.out" 2>&1 &
writes=$!
"$iscsi_load" --url "${URL[$mac_reads]}" --initiator "${INITIATOR[$mac_reads]}" --op read --bs 65536 --qd 4 \
  --idle 4 --seconds 5 >"$SCRATCH/reads.out" 2>&1 &
reads=$!
PIDS+=("$writes" "$reads")
sleep 2  # both sessions logged in
outage_ms=$(date +%s%3N)
"$BOOTHERD_TEST_PG" stop || die "could not stop PostgreSQL"
psql_q "SELECT 1" >/dev/null 2>&1 && die "PostgreSQL still answers"
status=$(api_status 2)
[ "$status" = 503 ] && grep -q "catalog cannot be reached" "$SCRATCH/api.out" ||
  die "management answered $status during the outage, not 503: $(cat "$SCRATCH/api.out")"
boot "$mac_boots"
grep -q "from what this server last read (catalog unreachable)" "${SLOG[1]}" ||
  die "server 1 did not say it served the script of $mac_boots without its catalog"
iscsi-readcapacity16 -i "${INITIATOR[$mac_elsewhere]}" "${URL[$mac_elsewhere]}" >/dev/null 2>&1 ||
  { tail -n 15 "${SLOG[1]}" "${SLOG[2]}"; die "the machine homed on s2 could not log in through s1 during the outage"; }
wait "$writes" || { cat "$SCRATCH/writes.out"; die "writes failed during the outage"; }
wait "$reads" || { cat "$SCRATCH/reads.out"; die "reads failed during the outage"; }
psql_q "SELECT 1" >/dev/null 2>&1 && die "PostgreSQL answered during the I/O"
echo "during the outage: writes $(grep -m1 '^iops=' "$SCRATCH/writes.out")"
echo "during the outage: reads $(grep -m1 '^iops=' "$SCRATCH/reads.out")"
"$BOOTHERD_TEST_PG" start || die "could not start PostgreSQL"
ok "PostgreSQL stopped: sessions kept reading and writing, a machine homed on s1 booted, a login for s2 was redirected, management answered 503"

for i in $(seq 50); do [ "$(api_status 2)" = 200 ] && break; sleep 0.2; done
[ "$(api_status 2)" = 200 ] || die "management does not answer after PostgreSQL came back: $(cat "$SCRATCH/api.out")"
outage_events() {
  psql_q "SELECT count(*) FROM events e JOIN nodes n ON n.id = e.node_id WHERE n.mac = '$1' AND e.kind = '$2' AND e.at >= $outage_ms"
}
for i in $(seq 50); do [ "$(outage_events "$mac_boots" iscsi.login.firmware)" -ge 1 ] && break; sleep 0.2; done
[ "$(outage_events "$mac_boots" script.fetched)" -eq 1 ] || die "the script served during the outage is not in the catalog's events"
[ "$(outage_events "$mac_boots" iscsi.login.firmware)" -eq 1 ] || die "the login during the outage is not in the catalog's events"
ok "PostgreSQL back: management answers, and the boot events of the outage are in the catalog"

# A rollout's new version is pulled by every server, so its machines may be placed on any of them.
"$BOOTHERD" image edit base --data "$SCRATCH/d1" >/dev/null && "$BOOTHERD" image commit base --data "$SCRATCH/d1" >/dev/null ||
  die "could not make v2"
"$BOOTHERD" image rollout base 2 --canary pc01 --waves 100% --soak 1h --data "$SCRATCH/d1" >/dev/null || die "image rollout failed"
v2_copies() { psql_q "SELECT count(*) FROM server_versions c JOIN versions v ON v.id = c.version_id WHERE v.number = 2"; }
for i in $(seq 150); do [ "$(v2_copies)" -eq 3 ] && break; sleep 0.2; done
[ "$(v2_copies)" -eq 3 ] || { tail -n 5 "${SLOG[@]}"; die "v2 of the running rollout is held verified by $(v2_copies) server(s), not 3"; }
ok "the running rollout's v2 was pulled and verified by servers 2 and 3"

for n in 1 2 3; do
  grep -qF "$(psql_q "SELECT chap_secret FROM nodes LIMIT 1")" "${SLOG[$n]}" && die "a CHAP secret is in server $n's log"
  kill -TERM "${SPID[$n]}"
  wait "${SPID[$n]}" || { tail -n 30 "${SLOG[$n]}"; die "server $n did not stop cleanly"; }
done
ok "servers stopped cleanly"
