#!/usr/bin/env bash
# The dashboard in Debian's headless Chromium (playwright-core from npm): prepares a catalog with the real CLI
# (an image with v1 promoted and a committed v2, two groups, the admin's password), starts `bootherd serve` on
# ephemeral ports, and runs dashboard.test.mjs against it. Screenshots land in $ARTIFACTS.
#
# Environment: BOOTHERD (the binary), ARTIFACTS (screenshot folder), NODE_DIR (where `npm ci` installs
# playwright-core; reused while package-lock.json is unchanged).
set -euo pipefail
: "${BOOTHERD:?set BOOTHERD to the bootherd binary}"
: "${ARTIFACTS:?set ARTIFACTS to the screenshot folder}"
: "${NODE_DIR:?set NODE_DIR to the folder npm installs into}"
HERE=$(cd "$(dirname "$0")" && pwd)
SCRATCH=$(mktemp -d /tmp/bootherd-browser.XXXXXX)
SERVE_PID=

cleanup() {
  if [ -n "$SERVE_PID" ]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (tools/install-deps.sh installs it)"
command -v npm >/dev/null || die "npm is missing (tools/install-deps.sh installs it)"

# playwright-core, exactly as locked.
mkdir -p "$NODE_DIR" "$ARTIFACTS"
if ! cmp -s "$HERE/package-lock.json" "$NODE_DIR/package-lock.json" || [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi
ok "playwright-core $(node -p "require('$NODE_DIR/node_modules/playwright-core/package.json').version")"
rm -f "$ARTIFACTS"/*.png

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }

# A small raw image; `image edit` + `image commit` seal v2 (not promoted) beside the promoted v1.
IMAGE=win11
truncate -s 8M "$SCRATCH/golden.raw"
dd if=/dev/urandom of="$SCRATCH/golden.raw" bs=64K count=4 conv=notrunc status=none
bh image import "$IMAGE" "$SCRATCH/golden.raw" >/dev/null || die "image import failed"
bh image edit "$IMAGE" >/dev/null || die "image edit failed"
bh image commit "$IMAGE" >/dev/null || die "image commit failed"
bh image versions "$IMAGE" | grep -qE '^v2 ' || die "no v2 after edit + commit: $(bh image versions "$IMAGE")"
GROUP=office
bh group add lab --image "$IMAGE" >/dev/null || die "group add lab failed"
bh group add "$GROUP" >/dev/null || die "group add $GROUP failed"
PASSWORD="browser-$RANDOM-$RANDOM"
echo "$PASSWORD" | bh admin set-password >/dev/null || die "admin set-password failed"
ok "catalog: $IMAGE v1 promoted and v2 sealed, groups lab and $GROUP, admin's password set"

LOG=$SCRATCH/serve.log
"$BOOTHERD" serve --data "$DATA" --listen 127.0.0.1:0 --listen-http 127.0.0.1:0 --discovery >"$LOG" 2>&1 &
SERVE_PID=$!
HTTP_PORT=
for _ in $(seq 100); do
  HTTP_PORT=$(grep -oE 'web on 127\.0\.0\.1:[0-9]+' "$LOG" | head -n 1 | cut -d: -f2 || true)
  [ -n "$HTTP_PORT" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$LOG"; die "bootherd serve exited"; }
  sleep 0.1
done
[ -n "$HTTP_PORT" ] || { cat "$LOG"; die "bootherd serve did not report its web port"; }
BASE_URL=http://127.0.0.1:$HTTP_PORT
ok "serve: dashboard on $BASE_URL"

# A boot script fetch by MAC, for the live event and the discovered machine. An enrolled machine's script goes
# only to its bound address, so from here it is refused (403) and recorded as a script.refused event; an
# unknown MAC gets the wait script and shows up as discovered.
cat >"$SCRATCH/boot-script-fetch.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
curl -sS -w 'HTTP %{http_code}\n' "$BASE_URL/boot/\$2.ipxe" | tail -n 1
EOF
chmod +x "$SCRATCH/boot-script-fetch.sh"

# Three boots of a machine, written into the catalog as the boot tracker would have (a real boot needs PXE and
# an OS: tests/boot/ does that): ok by its health report, failed in a reboot loop, and one still running after
# its OS login, all on $IMAGE v1. Times are relative to now, in ms.
cat >"$SCRATCH/seed-boots.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
now=\$(date +%s%3N)
sqlite3 -bail "$DATA/catalog.db" <<SQL
.timeout 10000
CREATE TEMP VIEW version_1 AS
SELECT v.id AS v1 FROM versions v JOIN images i ON i.id = v.image_id WHERE i.name = '$IMAGE' AND v.number = 1;
INSERT INTO boots (node_id, mac, version_id, started_at, dhcp_at, tftp_at, script_at, firmware_login_at,
                   first_read_at, os_login_at, health_at, ended_at, outcome, reason, message)
SELECT id, mac, v1, t, t, t + 1200, t + 2500, t + 3100, t + 3300, t + 21000, t + 38000, t + 38000,
       'ok', 'health_ok', 'all services up'
FROM nodes, (SELECT \$now - 3600000 AS t), version_1 WHERE name = '\$1';
INSERT INTO boots (node_id, mac, version_id, started_at, dhcp_at, tftp_at, script_at, firmware_login_at,
                   first_read_at, ended_at, outcome, reason)
SELECT id, mac, v1, t, t, t + 1100, t + 2400, t + 3000, t + 3200, t + 15000, 'failed', 'reboot_loop'
FROM nodes, (SELECT \$now - 1800000 AS t), version_1 WHERE name = '\$1';
INSERT INTO boots (node_id, mac, version_id, started_at, dhcp_at, tftp_at, script_at, firmware_login_at,
                   first_read_at, os_login_at)
SELECT id, mac, v1, t, t, t + 1000, t + 2200, t + 2800, t + 3000, t + 15000
FROM nodes, (SELECT \$now - 20000 AS t), version_1 WHERE name = '\$1';
SQL
EOF
chmod +x "$SCRATCH/seed-boots.sh"

# A failed boot of a machine on $IMAGE version $2 (no OS login in time), starting now, as the boot tracker
# would have ended it: the rollout director halts a stage with no failure budget at its next tick.
cat >"$SCRATCH/fail-boot.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
now=\$(date +%s%3N)
sqlite3 -bail "$DATA/catalog.db" <<SQL
.timeout 10000
INSERT INTO boots (node_id, mac, version_id, started_at, dhcp_at, script_at, firmware_login_at, first_read_at,
                   ended_at, outcome, reason)
SELECT n.id, n.mac, v.id, \$now, \$now, \$now + 1500, \$now + 2000, \$now + 2200, \$now + 2500, 'failed', 'no_os_login'
FROM nodes n, versions v JOIN images i ON i.id = v.image_id
WHERE n.name = '\$1' AND i.name = '$IMAGE' AND v.number = \$2;
SQL
EOF
chmod +x "$SCRATCH/fail-boot.sh"

# Two servers registered in the catalog as `serve --server-name` would (`add`), one heard from just now holding
# $IMAGE v1 and homing two machines, one silent for 10 minutes; `remove` takes them out again.
cat >"$SCRATCH/servers.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
now=\$(date +%s%3N)
if [ "\$1" = remove ]; then
  sqlite3 -bail "$DATA/catalog.db" ".timeout 10000" "UPDATE nodes SET home_server_id = NULL; DELETE FROM servers;"
  exit 0
fi
sqlite3 -bail "$DATA/catalog.db" <<SQL
.timeout 10000
INSERT INTO servers (name, iscsi_portal, capacity, max_booting, started_at, heartbeat_at, sessions, booting)
VALUES ('rack-a', '10.9.0.1:3260', 100, 20, \$now - 60000, \$now, 2, 1),
       ('rack-b', '10.9.0.2:3260', 50, 0, \$now - 900000, \$now - 600000, 0, 0);
INSERT INTO server_versions (server_id, version_id, verified_at)
SELECT s.id, v.id, \$now FROM servers s, versions v JOIN images i ON i.id = v.image_id
WHERE s.name = 'rack-a' AND i.name = '$IMAGE' AND v.number = 1;
UPDATE nodes SET home_server_id = (SELECT id FROM servers WHERE name = 'rack-a')
WHERE id IN (SELECT id FROM nodes ORDER BY id LIMIT 2);
SQL
EOF
chmod +x "$SCRATCH/servers.sh"

# dashboard.test.mjs first (it fills the catalog the others look at), then every other *.test.mjs, each in its
# own Chromium against the same server.
export BASE_URL PASSWORD IMAGE GROUP ARTIFACTS NODE_DIR
export FETCH_BOOT_SCRIPT=$SCRATCH/boot-script-fetch.sh SEED_BOOTS=$SCRATCH/seed-boots.sh FAIL_BOOT=$SCRATCH/fail-boot.sh \
  SERVERS=$SCRATCH/servers.sh
failed=()
for test in "$HERE/dashboard.test.mjs" $(ls "$HERE"/*.test.mjs | grep -v '/dashboard\.test\.mjs$'); do
  echo "--- $(basename "$test")"
  node "$test" || failed+=("$(basename "$test")")
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "--- serve log (last 40 lines)"
  tail -n 40 "$LOG"
  die "browser test(s) failed: ${failed[*]} (screenshots in $ARTIFACTS)"
fi
ok "browser tests passed; screenshots: $(ls "$ARTIFACTS" | tr '\n' ' ')"
