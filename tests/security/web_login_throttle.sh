#!/usr/bin/env bash
# Password guessing against POST /api/v1/login: one address guessing in a row is throttled (429 with
# Retry-After) after a few failures; every checked failure is logged (without the password) and audited;
# 16 parallel guessers rotating source addresses (so each attempt costs a real PBKDF2 hash) do not slow
# /healthz down; the admin still logs in from a clean address while the guessing address stays locked.
source "$(dirname "$0")/lib.sh"
sec_require_root

failures=0
fail() {  # a failed check; the others still run so every figure is printed
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

PASSWORD=right-password-1234
WRONG=guess-Zq7-wrong
data=$(sec_data throttle)
echo "$PASSWORD" | sec_cli "$data" admin set-password >/dev/null
log=$SEC_SCRATCH/serve.log
sec_serve "$data" "$log"
url=http://127.0.0.1:$SEC_HTTP_PORT

login() {  # SOURCE-ADDRESS USER PASSWORD -> prints the status code
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 --interface "$1" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"$3\"}" "$url/api/v1/login" || true
}

# 1. 50 wrong passwords in a row from one address.
codes=()
for i in $(seq 50); do codes+=("$(login 127.0.0.1 admin "$WRONG")"); done
n401=$(printf '%s\n' "${codes[@]}" | grep -c '^401$' || true)
n429=$(printf '%s\n' "${codes[@]}" | grep -c '^429$' || true)
first429=0
for i in "${!codes[@]}"; do [ "${codes[$i]}" = 429 ] && { first429=$((i + 1)); break; }; done
echo "50 wrong passwords from 127.0.0.1: $n401 x 401, $n429 x 429, first 429 at attempt $first429"
retry=$(curl -s -D - -o /dev/null --interface 127.0.0.1 -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"x"}' "$url/api/v1/login" | tr -d '\r' | sed -n 's/^[Rr]etry-[Aa]fter: //p')
if [ "$n429" -ge 40 ] && [ "$first429" -ge 1 ] && [ "$first429" -le 10 ] && [ "${retry:-0}" -ge 1 ]; then
  ok "throttled after $((first429 - 1)) failures (Retry-After: $retry s)"
else
  fail "wrong passwords are not throttled (or no Retry-After)"
fi

# 2. Checked failures are logged and audited; the password never reaches the log.
logged=$(grep -c "failed login for user 'admin' from 127.0.0.1" "$log" || true)
audited=$(sqlite3 "$data/catalog.db" "SELECT count(*) FROM audit WHERE action = 'auth.login_failed'")
echo "failed logins: $logged log lines, $audited audit rows"
if grep -q "$WRONG" "$log"; then
  fail "the guessed password is in the log"
elif [ "$logged" -ge 5 ] && [ "$audited" -ge 5 ]; then
  ok "each checked failure is logged and audited; the password is not logged"
else
  fail "failed logins are not logged and audited"
fi

# 3. 16 parallel guessers, each attempt from a new source address (a real hash each), for 10 s.
stop_at=$(($(date +%s) + 10))
guessers=()
for g in $(seq 16); do
  (
    i=0
    while [ "$(date +%s)" -lt "$stop_at" ]; do
      i=$((i + 1))
      login "127.1.$g.$((i % 250 + 1))" admin "$WRONG$i" >/dev/null || true
    done
  ) &
  guessers+=("$!")
  SEC_PIDS+=("$!")
done
sleep 1
worst=0
for i in $(seq 20); do
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$url/healthz" || true)
  [ "${t%% *}" = 200 ] || fail "/healthz failed during guessing: $t"
  worst=$(python3 -c "print(max($worst, ${t#* }))")
  sleep 0.3
done
wait "${guessers[@]}" || true
hashed=$(sqlite3 "$data/catalog.db" "SELECT count(*) FROM audit WHERE action = 'auth.login_failed'")
echo "worst /healthz latency with 16 guessers: ${worst} s ($((hashed - audited)) guesses checked and audited meanwhile)"
if python3 -c "import sys; sys.exit(0 if $worst <= 0.5 else 1)"; then
  ok "/healthz stays fast while passwords are guessed"
else
  fail "/healthz took ${worst} s while guessers ran"
fi

# 4. The guessing address stays locked; the admin logs in from a clean address.
locked=$(login 127.0.0.1 admin "$PASSWORD")
code=$(login 127.0.0.9 admin "$PASSWORD")
if [ "$locked" = 429 ] && [ "$code" = 200 ]; then
  ok "a clean address logs in while the guessing one is locked"
else
  fail "the guessing address got $locked with the right password, a clean one $code"
fi
[ "$failures" -eq 0 ] || die "$failures check(s) failed"
