#!/usr/bin/env bash
# The CLI's one noun-verb grammar, command by command, against a scratch data directory: `--json` parsed
# and its fields checked, destructive commands refused without a terminal unless given --yes (exit 2,
# nothing changed), exit codes 0 done / 1 failed / 2 usage, --version, and --dry-run changing nothing.
# No server, no root: loopback only (node wake sends to 127.0.0.1).
source "$(dirname "$0")/lib.sh"
export BOOTHERD_CONFIG=
unset BOOTHERD_DATA

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }
# json EXPR COMMAND...: runs the command (stdin not a terminal), parses its stdout as JSON into `d` and
# asserts the Python expression EXPR.
json() {
  local expr=$1 out
  shift
  out=$(bh "$@" </dev/null) || die "$* failed: $out"
  python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
if not ('"$expr"'):
    sys.exit("JSON check failed: " + sys.argv[1] + "\n" + json.dumps(d, indent=1))' "$expr" <<<"$out" ||
    die "$*: $expr"
}
# rc EXPECTED COMMAND...: the exit code, with the output left in OUT.
rc() {
  local expected=$1 got=0
  shift
  OUT=$("$@" </dev/null 2>&1) || got=$?
  [ "$got" -eq "$expected" ] || die "$* exited $got, not $expected: $OUT"
}
# needs_yes COMMAND...: without a terminal and without --yes: exit 2 and a message naming --yes.
needs_yes() {
  rc 2 bh "$@"
  grep -q -- "pass --yes" <<<"$OUT" || die "$* did not ask for --yes: $OUT"
}

# --- version and exit codes ---
rc 0 "$BOOTHERD" --version
[[ $OUT =~ ^bootherd\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version printed: $OUT"
rc 0 "$BOOTHERD" version
[[ $OUT =~ ^bootherd\ [0-9]+\.[0-9]+\.[0-9]+\ \(crc32c ]] || die "version printed: $OUT"
rc 0 "$BOOTHERD" --help
rc 2 "$BOOTHERD"
rc 2 "$BOOTHERD" image list --no-such-option
rc 2 "$BOOTHERD" image nosuchverb
rc 2 "$BOOTHERD" image list --data "$SCRATCH/nowhere"
printf 'bogus = 1\n' >"$SCRATCH/bad.toml"
rc 2 "$BOOTHERD" --config "$SCRATCH/bad.toml" image list
ok "--version, --help 0; usage and config errors 2"

# --- images ---
truncate -s 4M "$SCRATCH/base.raw"
rc 0 bh image import base "$SCRATCH/base.raw"
rc 0 bh image import other "$SCRATCH/base.raw"
rc 1 bh image show nosuch
grep -q "image 'nosuch' does not exist" <<<"$OUT" || die "image show nosuch: $OUT"
json 'sorted(i["name"] for i in d["items"]) == ["base", "other"] and d["items"][0]["promoted_version"] == 1
      and d["items"][0]["versions"] == 1 and d["items"][0]["draft"] is False and d["items"][0]["size_bytes"] == 4194304' \
  image list --json
bh image list | grep -qE '^NAME +PROMOTED +VERSIONS' || die "image list has no header: $(bh image list)"
bh image list | grep -qE '^base +v1 +1 +no +4\.0 MiB ' || die "image list row: $(bh image list)"
rc 0 bh image edit base
json 'd["name"] == "base" and d["versions"]["draft"]["number"] == 2 and d["versions"]["draft"]["chap"]["secret"]
      and [v["number"] for v in d["versions"]["items"]] == [1]' image show base --json
rc 0 bh image commit base
rc 0 bh image promote base v2
rc 0 bh image rollback base
rc 0 bh image flatten base 2
json '[(v["number"], v["promoted"], v["parent"]) for v in d["items"]] == [(1, True, None), (2, False, 1), (3, False, None)]
      and d["draft"] is None' image versions base --json
bh image versions base | grep -qE '^v1 +sealed .*[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{2}:[0-9]{2} +\*' ||
  die "image versions: $(bh image versions base)"
rc 0 bh image edit base
needs_yes image discard base
json 'd["versions"]["draft"]["number"] == 4' image show base --json
rc 0 bh image discard base --yes
json 'd["versions"]["draft"] is None' image show base --json
ok "image list/show/versions --json, edit, commit, promote, rollback, flatten; discard needs --yes"

# gc: --dry-run changes nothing, without --yes refused, with --yes deletes.
rc 0 bh image gc --keep 0 --dry-run
grep -q "would remove base v" <<<"$OUT" || die "gc --dry-run: $OUT"
json 'len(d["items"]) == 3' image versions base --json
needs_yes image gc --keep 0
json 'len(d["items"]) == 3' image versions base --json
rc 0 bh image gc --keep 0 --yes
json '[v["number"] for v in d["items"]] == [1]' image versions base --json
ok "image gc: --dry-run and a refusal change nothing, --yes deletes unused versions"

# --- groups ---
rc 0 bh group add lab --image base --description "lab machines"
rc 0 bh group add spare
json 'sorted(g["name"] for g in d["items"]) == ["lab", "spare"]' group list --json
rc 0 bh group set lab --persistent --no-bind-address
json 'd["name"] == "lab" and d["image"] == "base" and d["persistent"] is True and d["bind_address"] is False
      and d["description"] == "lab machines" and d["members"] == []' group show lab --json
ok "group add/set/list/show --json"

# --- nodes ---
rc 0 bh node add pc1 --mac 52:54:00:00:09:01 --group lab
rc 0 bh node add pc2 --mac 52:54:00:00:09:02 --image base --hostname desk-2
printf 'name,mac,image\npc3,52:54:00:00:09:03,base\n' >"$SCRATCH/nodes.csv"
rc 0 bh node import "$SCRATCH/nodes.csv" --dry-run
grep -q "1 row(s) would be imported" <<<"$OUT" || die "node import --dry-run: $OUT"
json 'd["total"] == 2' node list --json
rc 0 bh node import "$SCRATCH/nodes.csv"
json 'd["total"] == 3 and [n["name"] for n in d["items"]] == ["pc1", "pc2", "pc3"]
      and d["items"][0]["group"] == "lab" and d["items"][0]["persistent"] is True
      and d["items"][1]["hostname"] == "desk-2" and all(n["status"] in ("off", "booting", "booted", "failed") for n in d["items"])' \
  node list --json
bh node list | grep -qE '^NAME +MAC +HOSTNAME +IP +GROUP +IMAGE +VERSION +PERSISTENT +STATUS' || die "node list header: $(bh node list)"
bh node list | grep -qE '^pc2 +52:54:00:00:09:02 +desk-2 +- +- +base +v1 +no +off ' || die "node list row: $(bh node list)"
json 'd["members"] == ["pc1"]' group show lab --json
rc 0 bh node set pc2 --group spare --persistent --disable --ip 10.9.0.2
json 'd["group"] == "spare" and d["persistent"] is True and d["enabled"] is False and d["fixed_ip"] == "10.9.0.2"' \
  node show pc2 --json
rc 0 bh node set pc2 --enable --group-persistence --no-group
json 'd["group"] is None and d["persistent"] is False and d["enabled"] is True' node show pc2 --json
rc 0 bh node set pc3 --image other
json 'd["image"] == "other"' node show pc3 --json
bh node show pc1 | grep -q '^target=iqn' && bh node show pc1 | grep -q '^status=off$' ||
  die "node show key=value: $(bh node show pc1)"
ok "node add/import (--dry-run changes nothing)/set/list/show --json"

# The status comes from the catalog's facts (boots/machine_status): a boot running since now is booting, a
# failed one failed, in the list, the JSON and node show alike.
now_ms=$(($(date +%s) * 1000))
sqlite3 "$DATA/catalog.db" "INSERT INTO boots (node_id, mac, started_at) SELECT id, mac, $now_ms FROM nodes WHERE name = 'pc1';
  INSERT INTO boots (node_id, mac, started_at, ended_at, outcome, reason) SELECT id, mac, $now_ms, $now_ms, 'failed', 'no_os_login' FROM nodes WHERE name = 'pc3'"
json '[n["status"] for n in d["items"]] == ["booting", "off", "failed"]' node list --json
bh node list | grep -qE '^pc1 .* booting ' && bh node list | grep -qE '^pc3 .* failed ' || die "node list status: $(bh node list)"
bh node show pc3 | grep -q '^status=failed$' || die "node show status: $(bh node show pc3)"
ok "node list/show status: booting and failed from the boot records"

# reset: a persistent machine needs --yes, a non-persistent one does not.
disk() { bh node show "$1" | sed -n 's/^disk=//p'; }
before=$(disk pc1)
needs_yes node reset pc1
[ "$(disk pc1)" = "$before" ] || die "a refused reset changed pc1's disk"
rc 0 bh node reset pc1 --yes
[ "$(disk pc1)" != "$before" ] || die "node reset --yes kept pc1's disk"
before=$(disk pc2)
rc 0 bh node reset pc2
[ "$(disk pc2)" != "$before" ] || die "node reset of a non-persistent machine kept its disk"
ok "node reset: persistent needs --yes"

rc 0 bh node wake pc2 --broadcast 127.0.0.1
grep -q "woke pc2" <<<"$OUT" || die "node wake: $OUT"

# discovered and enrol: a MAC the DHCP server saw.
sqlite3 "$DATA/catalog.db" "INSERT INTO discovered (mac, first_seen, last_seen, seen_count, arch, vendor_class)
  VALUES ('52:54:00:00:09:aa', 1796350000000, 1796350507000, 3, '7', 'PXEClient:Arch:00007')"
json 'd["items"][0]["mac"] == "52:54:00:00:09:aa" and d["items"][0]["last_seen"] == 1796350507000
      and d["items"][0]["seen_count"] == 3' node discovered --json
bh node discovered | grep -qE '^52:54:00:00:09:aa +7 +3 +PXEClient:Arch:00007 +[0-9-]{10}T[0-9:]{8}[+-][0-9:]{5} ' ||
  die "node discovered: $(bh node discovered)"
rc 1 bh node enrol 52:54:00:00:09:bb ghost --image base
rc 0 bh node enrol 52:54:00:00:09:AA pc9 --image base
json '"pc9" in [n["name"] for n in d["items"]]' node list --json
json 'd["items"] == []' node discovered --json
ok "node wake, discovered --json with ISO times, enrol"

# --- rollouts (rollout_cli drives them in depth) ---
rc 0 bh image edit base
rc 0 bh image commit base
new=$(bh image versions base --json | python3 -c 'import json, sys; print(max(v["number"] for v in json.load(sys.stdin)["items"]))')
rc 0 bh image rollout base "$new" --canary 1 --soak 90s
json 'len(d["items"]) == 1 and d["items"][0]["image"] == "base" and d["items"][0]["to_version"] == '"$new"'
      and d["items"][0]["state"] == "running"' rollout list --json
id=$(bh rollout list --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
json 'd["id"] == '"$id"' and len(d["stages"]) == 2 and d["stages"][0]["tally"]["members"] == 1' rollout status "$id" --json
bh rollout list | grep -qE "^$id +base +v1 +v$new +running +canary +[0-9-]{10}T" || die "rollout list: $(bh rollout list)"
rc 0 bh rollout abort "$id"
json 'd["state"] == "aborted"' rollout status "$id" --json
ok "rollout list/status --json, abort"

# --- image remove: refused while used, naming the users; --yes needed ---
rc 1 bh image remove base --yes
grep -q "machine(s) pc1, pc2, pc9" <<<"$OUT" && grep -q "group(s) lab" <<<"$OUT" || die "image remove in use: $OUT"
needs_yes image remove other
json '"other" in [i["name"] for i in d["items"]]' image list --json
needs_yes node remove pc3
json '"pc3" in [n["name"] for n in d["items"]]' node list --json
rc 0 bh node remove pc3 --yes
json '"pc3" not in [n["name"] for n in d["items"]]' node list --json
rc 0 bh image remove other --yes
json '[i["name"] for i in d["items"]] == ["base"]' image list --json
[ ! -e "$DATA/images/other" ] || die "image remove left $(ls "$DATA/images/other")"
# On a terminal the question is asked: "n" keeps the group (exit 1), "y" removes it.
on_terminal() {
  python3 - "$1" "$BOOTHERD" "${@:2}" --data "$DATA" <<'PY'
import os, pty, sys
answer, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
while b"[y/N]" not in out:
    chunk = os.read(fd, 1024)
    if not chunk:
        sys.exit("no question asked: %r" % out)
    out += chunk
os.write(fd, answer.encode() + b"\n")
try:
    while chunk := os.read(fd, 1024):
        out += chunk
except OSError:
    pass
_, status = os.waitpid(pid, 0)
print(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}
rc 1 on_terminal n group remove spare
grep -q "nothing removed" <<<"$OUT" || die "answering n: $OUT"
json '"spare" in [g["name"] for g in d["items"]]' group list --json
needs_yes group remove spare
rc 0 on_terminal y group remove spare
json '[g["name"] for g in d["items"]] == ["lab"]' group list --json
rc 0 bh group add spare
rc 0 bh group remove spare --yes
json '[g["name"] for g in d["items"]] == ["lab"]' group list --json
ok "image remove (refused while used), node remove and group remove need --yes; a terminal is asked"

# --- tokens ---
printf 'password123\n' | bh admin set-password >/dev/null
token=$(bh token create ci --scope read --expires 30d --json </dev/null)
python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["name"] == "ci" and d["scope"] == "read" and len(d["token"]) >= 32 and d["expires"] > d["created"]' "$token" ||
  die "token create --json: $token"
rc 0 bh token create deploy
grep -qE '^[0-9a-f]{32,}$' <<<"$OUT" || die "token create prints no secret: $OUT"
rc 2 bh token create bad --scope root
rc 2 bh token create bad --expires soon
json '[t["name"] for t in d["items"]] == ["ci", "deploy"] and all("token" not in t for t in d["items"])' token list --json
needs_yes token revoke ci
json 'len(d["items"]) == 2' token list --json
rc 0 bh token revoke ci --yes
json '[t["name"] for t in d["items"]] == ["deploy"]' token list --json
rc 1 bh token revoke ci --yes
ok "token create (secret once) / list --json / revoke needs --yes"

# --- servers (cluster.sh lists real ones on PostgreSQL) ---
json 'd["items"] == [] and d["heartbeat_timeout_s"] == 30' server list --json
rc 0 bh server list
grep -q "no server is registered" <<<"$OUT" || die "server list without servers: $OUT"
# Two registrations as `serve --server-name` would write them: one heard from 3 s ago, one 40 s ago.
python3 - "$DATA/catalog.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1000)
for name, portal, beat in (("s1", "10.0.0.1:3260", now - 3000), ("s2", "10.0.0.2:3260", now - 40000)):
    db.execute("INSERT INTO servers (name, iscsi_portal, capacity, max_booting, started_at, heartbeat_at, booting) "
               "VALUES (?, ?, 100, 0, ?, ?, 1)", (name, portal, beat, beat))
s1 = db.execute("SELECT id FROM servers WHERE name = 's1'").fetchone()[0]
db.execute("INSERT INTO server_versions (server_id, version_id, verified_at) SELECT ?, v.id, ? FROM versions v "
           "JOIN images i ON i.id = v.image_id WHERE i.name = 'base' AND v.state = 'sealed'", (s1, now))
db.execute("UPDATE nodes SET home_server_id = ?", (s1,))
db.commit()
PY
homed=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM nodes").fetchone()[0])' "$DATA/catalog.db")
json '[(s["name"], s["live"], s["iscsi_portal"], s["booting"]) for s in d["items"]] == [("s1", True, "10.0.0.1:3260", 1), ("s2", False, "10.0.0.2:3260", 1)]
      and d["items"][0]["homed"] == '"$homed"' and d["items"][1]["homed"] == 0
      and {v["image"] for v in d["items"][0]["versions"]} == {"base"} and d["items"][1]["versions"] == []' server list --json
json '[s["live"] for s in d["items"]] == [True, True] and d["heartbeat_timeout_s"] == 60' server list --json --server-timeout-seconds 60
rc 2 bh server list --server-timeout-seconds 1
rc 0 bh server list
grep -qE '^NAME +STATE +PORTAL +HOMED +BOOTING +CAPACITY +HEARTBEAT +VERSIONS' <<<"$OUT" || die "server list header: $OUT"
grep -qE '^s1 +live +10\.0\.0\.1:3260 +'"$homed"' +1 +100 +[0-9]s ago +base v[0-9]+(, base v[0-9]+)*$' <<<"$OUT" || die "server list s1: $OUT"
grep -qE '^s2 +down +10\.0\.0\.2:3260 +0 +1 +100 +4[0-9]s ago +-$' <<<"$OUT" || die "server list s2: $OUT"
ok "server list (--json): none registered, then one live and one down, with homes, load and versions held"
