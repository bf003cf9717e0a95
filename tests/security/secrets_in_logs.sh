#!/usr/bin/env bash
# No secret in a log: a whole scenario (serve at debug level, the first admin password, a web login, an API
# token, nodes with CHAP added by CLI and API, a draft with its own CHAP credentials and a maintenance machine
# (whose boot script carries them), boot script fetches, iSCSI
# logins right and wrong, a password change), then every secret the run made (the catalog's CHAP secrets, the
# admin passwords, the token, the session cookie and CSRF token) is looked for in every log and every output
# the run kept: the server's log, the CLI's output (but for what exists to show a secret: `node show`,
# `image edit/show`), and the catalog's events and audit trail. Any hit fails.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_api.sh"
sec_require_root
command -v sqlite3 >/dev/null || { echo "SKIP: needs sqlite3" >&2; exit 77; }

DATA=$(sec_data data)
LOGS=$(sec_data logs) # everything grepped at the end
CLI_LOG=$LOGS/cli.log
# A command that fails is noted, not fatal: its output is what matters here (an older build lacks some).
cli() { sec_cli "$DATA" "$@" >>"$CLI_LOG" 2>&1 || echo "note: bootherd $* failed" >&2; }
cli_quiet() { sec_cli "$DATA" "$@" 2>>"$CLI_LOG" >/dev/null || echo "note: bootherd $* failed" >&2; } # its stdout shows secrets by design

RAW=$SEC_SCRATCH/base.raw
truncate -s 4M "$RAW"
dd if=/dev/urandom of="$RAW" bs=64K count=2 conv=notrunc status=none
cli image import base "$RAW"
cli node add pc2 --mac 52:54:00:00:00:02 --image base --no-bind-address

sec_serve "$DATA" "$LOGS/serve.log" -v
if [ -e "$DATA/initial-admin-password" ]; then
  PASSWORD=$(sec_admin_password "$DATA")
else # an older server: the log is the only place it is in
  PASSWORD=$(grep -oE 'with password [^ ]+' "$LOGS/serve.log" | head -n 1 | cut -d' ' -f3)
fi
[ -n "$PASSWORD" ] || die "no admin password"

api_login "$SEC_HTTP_PORT" admin "$PASSWORD"
COOKIE=$(awk '$6 == "bootherd_session" { print $7 }' "$API_JAR")
[ -n "$COOKIE" ] || die "no session cookie"
curl -s -o /dev/null -H 'Content-Type: application/json' -d '{"username":"admin","password":"wrong-password-1"}' \
  "$API_BASE/api/v1/login"
out=$(api POST /api/v1/tokens -H 'Content-Type: application/json' -d '{"name":"script"}')
TOKEN=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$(api_body "$out")")
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$API_BASE/api/v1/nodes" || die "the token does not work"
api POST /api/v1/nodes -H 'Content-Type: application/json' \
  -d '{"name":"pc1","mac":"52:54:00:00:00:01","image":"base","bind_address":false}' >/dev/null
# pc1 is the draft's maintenance machine: its boot script below carries the draft's secret.
out=$(api POST /api/v1/images/base/edit -H 'Content-Type: application/json' -d '{"on":"pc1"}')
MAINT_SECRET=$(python3 -c 'import json,sys; print((json.load(sys.stdin).get("chap") or {}).get("secret", ""))' \
  <<<"$(api_body "$out")" 2>/dev/null || true)
api GET /api/v1/images/base/versions >/dev/null
for mac in 52:54:00:00:00:01 52:54:00:00:00:02; do
  curl -s -o /dev/null "$API_BASE/boot/$mac.ipxe"
done
ok "web: login (and a wrong one), token, node and draft made through the API, boot scripts fetched"

# iSCSI logins with each credential, and with wrong secrets.
field() { sec_node_field "$DATA" "$1" "$2"; }
if command -v iscsi-inq >/dev/null; then
  for node in pc1 pc2; do
    iqn=$(field $node target) init=$(field $node initiator) user=$(field $node chap_user)
    secret=$(field $node chap_secret)
    iscsi-inq -i "$init" "iscsi://$user%$secret@127.0.0.1:$SEC_ISCSI_PORT/$iqn/0" >/dev/null 2>&1 ||
      die "$node cannot log in"
    iscsi-inq -i "$init" "iscsi://$user%not-the-secret-1@127.0.0.1:$SEC_ISCSI_PORT/$iqn/0" >/dev/null 2>&1 || true
  done
  shown=$(sec_cli "$DATA" image show base 2>>"$CLI_LOG" || true)
  d_user=$(sed -n 's/^  CHAP user \([^,]*\), secret .*/\1/p' <<<"$shown")
  d_secret=$(sed -n 's/^  CHAP user [^,]*, secret \(.*\)$/\1/p' <<<"$shown")
  if [ -n "$d_secret" ]; then
    iscsi-inq -i "$(field pc1 initiator)" \
      "iscsi://$d_user%$d_secret@127.0.0.1:$SEC_ISCSI_PORT/iqn.2026-11.org.bootherd:draft.base/0" >/dev/null 2>&1 ||
      die "the draft cannot be opened with its credentials"
  fi
  ok "iSCSI: node and draft logins, right and wrong"
fi

# The CLI around a running server.
cli node list
cli image versions base
cli_quiet image show base
cli_quiet node show pc1
cli image commit base
cli_quiet image edit base
NEW_PASSWORD="changed-$RANDOM$RANDOM$RANDOM"
echo "$NEW_PASSWORD" | cli admin set-password
api POST /api/v1/logout >/dev/null
sec_stop "$SEC_SERVE_PID" || true
sqlite3 "$DATA/catalog.db" "SELECT * FROM events; SELECT * FROM audit;" >"$LOGS/catalog-events-and-audit.txt"

# Every secret the run made.
secrets=$(
  {
    echo "admin-password $PASSWORD"
    echo "new-admin-password $NEW_PASSWORD"
    echo "api-token $TOKEN"
    echo "session-cookie $COOKIE"
    echo "csrf-token $API_CSRF"
    [ -z "$MAINT_SECRET" ] || echo "maintenance-draft-secret $MAINT_SECRET"
    sqlite3 -separator ' ' "$DATA/catalog.db" \
      "SELECT 'chap-secret-of-node-' || name, chap_secret FROM nodes;
       SELECT 'chap-secret-of-draft-v' || number, chap_secret FROM versions WHERE chap_secret IS NOT NULL;"
  }
)
count=$(wc -l <<<"$secrets")
[ "$count" -ge 7 ] || die "the run made only $count secrets: $secrets"

hits=0
while read -r kind secret; do
  [ "${#secret}" -ge 8 ] || die "$kind is too short to look for: '$secret'"
  if found=$(grep -rlF -- "$secret" "$LOGS"); then
    echo "LEAK: the $kind is in: $found" >&2
    grep -rnF -- "$secret" "$LOGS" | head -n 3 >&2
    hits=$((hits + 1))
  fi
done <<<"$secrets"
[ "$hits" -eq 0 ] || die "$hits secret(s) found in logs or outputs"
ok "none of the run's $count secrets is in $(find "$LOGS" -type f | wc -l) log and output files"
