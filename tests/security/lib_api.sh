# shellcheck shell=bash
# REST API helpers for the attack scripts (sourced after lib.sh; lib_*.sh files are no tests).
#
#   api_login PORT USER PASSWORD   logs in with a cookie jar; sets API_BASE, API_JAR, API_CSRF
#   api METHOD PATH [CURL ARGS...] the request with the session and CSRF header; prints the body, then the
#                                  HTTP status on a last line of its own
#   api_status OUTPUT / api_body OUTPUT  the two parts of api's output
#   api_wait_job ID                waits (at most 60 s) for an import job to end; prints its JSON
api_login() {
  API_BASE=http://127.0.0.1:$1
  API_JAR=$SEC_SCRATCH/cookies.$RANDOM
  local answer
  answer=$(curl -sf -c "$API_JAR" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"$3\"}" "$API_BASE/api/v1/login") || die "login as $2 failed"
  API_CSRF=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])' <<<"$answer")
}

api() {
  local method=$1 path=$2
  shift 2
  curl -s -m 60 -b "$API_JAR" -H "X-CSRF-Token: $API_CSRF" -X "$method" -w '\n%{http_code}' "$@" "$API_BASE$path"
}

api_status() { tail -n 1 <<<"$1"; }
api_body() { sed '$d' <<<"$1"; }

api_wait_job() {
  local out
  for _ in $(seq 300); do
    out=$(api GET "/api/v1/jobs/$1")
    grep -q '"state":"running"' <<<"$out" || { api_body "$out"; return 0; }
    sleep 0.2
  done
  die "job $1 did not end"
}
