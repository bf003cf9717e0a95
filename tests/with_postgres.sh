#!/usr/bin/env bash
# Runs a command against a private PostgreSQL 15: initdb into a temp dir, listening on 127.0.0.1 only on a
# free port (its unix socket in the temp dir), BOOTHERD_TEST_CATALOG set to its URI; stopped and removed
# afterwards whatever happens; BOOTHERD_TEST_PG names a script that stops and starts it (a test's outage).
# initdb refuses root, so as root the server runs as the `postgres` user.
# Usage: with_postgres.sh COMMAND [ARGS...]
set -euo pipefail
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
dir=$(mktemp -d /tmp/bootherd-pg-XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U bootherd --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; exit 1; }
# "$BOOTHERD_TEST_PG" stop|start: a test's own catalog outage (stop waits until the server is gone).
printf '%s\n' '#!/usr/bin/env bash' \
  "case \$1 in" \
  "  stop) exec ${as_owner[*]} $pg_bin/pg_ctl -D $dir/data -m fast -w stop >/dev/null ;;" \
  "  start) exec ${as_owner[*]} $pg_bin/pg_ctl -D $dir/data -l $dir/server.log -w -t 30 -o '-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off' start >/dev/null ;;" \
  "  *) echo 'usage: pg stop|start' >&2; exit 2 ;;" \
  "esac" >"$dir/pg"
chmod 755 "$dir/pg"
"$dir/pg" start || { cat "$dir/server.log"; exit 1; }
"${as_owner[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U bootherd catalog_test

export BOOTHERD_TEST_CATALOG="postgresql://bootherd@127.0.0.1:$port/catalog_test" BOOTHERD_TEST_PG="$dir/pg"
# The same catalog through its unix socket, for servers inside a network namespace (they cannot reach this
# 127.0.0.1; a socket path is the same in every namespace).
export BOOTHERD_TEST_CATALOG_SOCKET="postgresql://bootherd@/catalog_test?host=$dir&port=$port"
"$@"
