#!/usr/bin/env bash
# Scoped, expiring API tokens: a read token reads (/metrics, /api/v1/nodes) but cannot change anything
# (403); an expired token is 401.
source "$(dirname "$0")/lib.sh"
sec_require_root

PASSWORD=right-password-1234
data=$(sec_data tokens)
echo "$PASSWORD" | sec_cli "$data" admin set-password >/dev/null
sec_serve "$data" "$SEC_SCRATCH/serve.log"
url=http://127.0.0.1:$SEC_HTTP_PORT
json='Content-Type: application/json'

answer=$(curl -s -D "$SEC_SCRATCH/headers" -H "$json" -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
  "$url/api/v1/login")
cookie=$(tr -d '\r' <"$SEC_SCRATCH/headers" | sed -n 's/^[Ss]et-[Cc]ookie: \(bootherd_session=[^;]*\).*/\1/p')
csrf=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$answer")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"; }
new_token() {  # JSON body -> the answer
  curl -s --max-time 10 -H "$json" -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -d "$1" "$url/api/v1/tokens"
}
as() {  # TOKEN METHOD PATH [BODY] -> status
  local token=$1 method=$2 path=$3 body=()
  [ $# -lt 4 ] || body=(-H "$json" -d "$4")
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$method" -H "Authorization: Bearer $token" \
    "${body[@]}" "$url$path"
}

reader=$(new_token '{"name":"prometheus","scope":"read"}')
read_secret=$(field "$reader" token)
read_id=$(field "$reader" id)
[ "$(field "$reader" scope)" = read ] || die "the token was not created read-only: $reader"
[ "$(as "$read_secret" GET /metrics)" = 200 ] || die "a read token cannot GET /metrics"
[ "$(as "$read_secret" GET /api/v1/nodes)" = 200 ] || die "a read token cannot GET /api/v1/nodes"
ok "a read token reads /metrics and /api/v1/nodes"
code=$(as "$read_secret" POST /api/v1/groups '{"name":"intruders"}')
[ "$code" = 403 ] || die "a read token POSTed a group ($code)"
code=$(as "$read_secret" POST /api/v1/tokens '{"name":"escalate"}')
[ "$code" = 403 ] || die "a read token created a token ($code)"
code=$(as "$read_secret" DELETE "/api/v1/tokens/$read_id")
[ "$code" = 403 ] || die "a read token deleted a token ($code)"
ok "a read token gets 403 on POST and DELETE"

# A draft's CHAP secret is for those who may change images, not for a metrics scraper.
head -c 1048576 /dev/zero >"$SEC_SCRATCH/base.img"
sec_cli "$data" image import base "$SEC_SCRATCH/base.img" >/dev/null
sec_cli "$data" image edit base >/dev/null
draft_secret=$(sqlite3 "file:$data/catalog.db?mode=ro" "SELECT chap_secret FROM versions WHERE state = 'draft'")
[ -n "$draft_secret" ] || die "the draft has no CHAP secret"
seen=$(curl -s --max-time 10 -H "Authorization: Bearer $read_secret" "$url/api/v1/images/base/versions")
grep -q '"target"' <<<"$seen" || die "a read token cannot see the draft: $seen"
! grep -qF "$draft_secret" <<<"$seen" || die "a read token sees the draft's CHAP secret"
admin_seen=$(curl -s --max-time 10 -H "Cookie: $cookie" "$url/api/v1/images/base/versions")
grep -qF "$draft_secret" <<<"$admin_seen" || die "an admin session does not see the draft's CHAP secret"
ok "a read token sees the draft but not its CHAP secret; an admin session does"

short=$(new_token '{"name":"short-lived","expires_in":1}')
short_secret=$(field "$short" token)
[ "$(field "$short" expires)" != None ] || die "the token has no expiry: $short"
long=$(new_token '{"name":"ci","expires_in":3600}')
sleep 2
code=$(as "$short_secret" GET /api/v1/nodes)
[ "$code" = 401 ] || die "an expired token got $code"
[ "$(as "$(field "$long" token)" POST /api/v1/groups '{"name":"ci-made"}')" = 201 ] ||
  die "an unexpired admin token cannot POST"
ok "an expired token is 401; an unexpired admin token works"
