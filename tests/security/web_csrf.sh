#!/usr/bin/env bash
# Cross-site login and logout: a foreign Origin (or Sec-Fetch-Site: cross-site) is refused with 403, a
# logout without the session's CSRF token is refused; same-origin requests and plain API clients work.
source "$(dirname "$0")/lib.sh"
sec_require_root

PASSWORD=right-password-1234
data=$(sec_data csrf)
echo "$PASSWORD" | sec_cli "$data" admin set-password >/dev/null
sec_serve "$data" "$SEC_SCRATCH/serve.log"
url=http://127.0.0.1:$SEC_HTTP_PORT
self="Origin: http://127.0.0.1:$SEC_HTTP_PORT"
body="{\"username\":\"admin\",\"password\":\"$PASSWORD\"}"
json='Content-Type: application/json'

status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

code=$(status -H "$json" -H 'Origin: http://evil.example' -d "$body" "$url/api/v1/login")
[ "$code" = 403 ] || die "login with a foreign Origin got $code"
code=$(status -H "$json" -H 'Origin: null' -d "$body" "$url/api/v1/login")
[ "$code" = 403 ] || die "login with Origin: null got $code"
code=$(status -H "$json" -H 'Sec-Fetch-Site: cross-site' -d "$body" "$url/api/v1/login")
[ "$code" = 403 ] || die "login with Sec-Fetch-Site: cross-site got $code"
ok "cross-site logins are refused"

code=$(status -H "$json" -d "$body" "$url/api/v1/login")
[ "$code" = 200 ] || die "login without Origin (a script) got $code"
answer=$(curl -s -D "$SEC_SCRATCH/headers" -H "$json" -H "$self" -H 'Sec-Fetch-Site: same-origin' -d "$body" \
  "$url/api/v1/login")
cookie=$(tr -d '\r' <"$SEC_SCRATCH/headers" | sed -n 's/^[Ss]et-[Cc]ookie: \(bootherd_session=[^;]*\).*/\1/p')
csrf=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$answer")
[ -n "$cookie" ] && [ -n "$csrf" ] || die "same-origin login failed: $answer"
ok "same-origin and Origin-less logins work"

code=$(status -X POST -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -H 'Origin: http://evil.example' \
  "$url/api/v1/logout")
[ "$code" = 403 ] || die "logout with a foreign Origin got $code"
code=$(status -X POST -H "Cookie: $cookie" -H "$self" "$url/api/v1/logout")
[ "$code" = 403 ] || die "logout without the CSRF token got $code"
code=$(status -H "Cookie: $cookie" "$url/api/v1/me")
[ "$code" = 200 ] || die "the session did not survive the refused logouts ($code)"
ok "cross-site and token-less logouts are refused; the session lives"

code=$(status -X POST -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -H "$self" "$url/api/v1/logout")
[ "$code" = 204 ] || die "same-origin logout got $code"
code=$(status -H "Cookie: $cookie" "$url/api/v1/me")
[ "$code" = 401 ] || die "the session outlived its logout ($code)"
ok "same-origin logout with the CSRF token ends the session"
