#!/usr/bin/env bash
# Defaults through the real CLI: one config file whose top-level `data` serves every command, BOOTHERD_DATA over
# the file, the command line over both, unknown keys refused, read-only commands that never make a data
# directory, one `serve` per data directory, and syslog priority prefixes when stderr goes to journald.
source "$(dirname "$0")/lib.sh"
export BOOTHERD_CONFIG=  # never the machine's /etc/bootherd/bootherd.toml
unset BOOTHERD_DATA JOURNAL_STREAM

FILE_DATA=$SCRATCH/file-data
ENV_DATA=$SCRATCH/env-data
CLI_DATA=$SCRATCH/cli-data
CONFIG=$SCRATCH/bootherd.toml
cat >"$CONFIG" <<TOML
data = "$FILE_DATA"

[node.list]

[group.add]
TOML

# The top-level key reaches commands of different families, nested ones included.
"$BOOTHERD" --config "$CONFIG" group add from-file >/dev/null
[ -f "$FILE_DATA/catalog.db" ] || die "group add did not use the file's data directory"
BOOTHERD_CONFIG=$CONFIG "$BOOTHERD" rollout list >/dev/null || die "rollout list with the file's data failed"
BOOTHERD_CONFIG=$CONFIG "$BOOTHERD" node list >/dev/null || die "node list with the file's data failed"
ok "top-level data: group add, rollout list and node list share it (--config and BOOTHERD_CONFIG)"

# BOOTHERD_DATA beats the file; --data beats both, after the subcommand or before it.
BOOTHERD_DATA=$ENV_DATA "$BOOTHERD" --config "$CONFIG" group add from-env >/dev/null
[ -f "$ENV_DATA/catalog.db" ] || die "BOOTHERD_DATA did not win over the file"
BOOTHERD_DATA=$ENV_DATA "$BOOTHERD" --config "$CONFIG" group add from-cli --data "$CLI_DATA" >/dev/null
BOOTHERD_DATA=$ENV_DATA "$BOOTHERD" --config "$CONFIG" --data "$CLI_DATA" group add from-cli-2 >/dev/null
groups() {
  sqlite3 "$1/catalog.db" 'SELECT name FROM groups ORDER BY name' | tr '\n' ' '
}
[ "$(groups "$FILE_DATA")" = "from-file " ] || die "file data holds: $(groups "$FILE_DATA")"
[ "$(groups "$ENV_DATA")" = "from-env " ] || die "env data holds: $(groups "$ENV_DATA")"
[ "$(groups "$CLI_DATA")" = "from-cli from-cli-2 " ] || die "cli data holds: $(groups "$CLI_DATA")"
ok "precedence: --data > BOOTHERD_DATA > the file's data"

# Unknown keys, at the top or in a section, and data in a section, are refused by name.
printf 'data = "%s"\nbogus = 1\n' "$FILE_DATA" >"$SCRATCH/top.toml"
expect_fail "unknown key bogus" "$BOOTHERD" --config "$SCRATCH/top.toml" node list
printf '[node.list]\nwide = true\n' >"$SCRATCH/section.toml"
expect_fail "unknown key node.list.wide" "$BOOTHERD" --config "$SCRATCH/section.toml" node list --data "$FILE_DATA"
printf '[serve]\ndata = "/elsewhere"\n' >"$SCRATCH/data-section.toml"
expect_fail "serve.data is not allowed in a section" "$BOOTHERD" --config "$SCRATCH/data-section.toml" serve
expect_fail "$SCRATCH/missing.toml" env BOOTHERD_CONFIG="$SCRATCH/missing.toml" "$BOOTHERD" node list
ok "config: unknown keys and data in a section refused, a missing BOOTHERD_CONFIG file named"

# Read-only commands in an empty directory: a clear error, nothing created.
EMPTY=$SCRATCH/empty
mkdir "$EMPTY"
for command in "node list" "node show pc1" "image versions base" "image show base" "rollout list" "rollout status 1"; do
  # shellcheck disable=SC2086
  expect_fail "no bootherd data directory at $EMPTY/bootherd-data: give --data, BOOTHERD_DATA or data= in the config" \
    bash -c "cd '$EMPTY' && exec '$BOOTHERD' $command"
done
expect_fail "no bootherd data directory at $SCRATCH/nowhere" "$BOOTHERD" node list --data "$SCRATCH/nowhere"
expect_fail "no bootherd data directory at $SCRATCH/nowhere" env BOOTHERD_DATA="$SCRATCH/nowhere" "$BOOTHERD" node list
[ -z "$(ls -A "$EMPTY")" ] && [ ! -e "$SCRATCH/nowhere" ] || die "a read-only command created: $(ls -A "$EMPTY")"
ok "read-only commands: fail naming the directory and create nothing"

# A second serve on the same data directory is refused, naming the directory and the first one's pid.
start_serve "$CLI_DATA"
expect_fail "another bootherd serve (pid $SERVE_PID) is already serving the data directory $CLI_DATA" \
  "$BOOTHERD" serve --data "$CLI_DATA" --listen 127.0.0.1:0 --listen-http 127.0.0.1:0
kill -0 "$SERVE_PID" || die "the first serve died"
stop_serve
start_serve "$CLI_DATA"  # the lock went with the process
stop_serve
ok "serve: a second one on the same data directory refused; free again once the first stops"

# Under journald: the syslog priority leads and there is no timestamp; otherwise the timestamp leads.
out=$(JOURNAL_STREAM=8:12345 "$BOOTHERD" image versions nosuch --data "$CLI_DATA" 2>&1 || true)
grep -qE '^<3>[^0-9]' <<<"$out" || die "no <3> prefix under JOURNAL_STREAM: $out"
out=$("$BOOTHERD" image versions nosuch --data "$CLI_DATA" 2>&1 || true)
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z error ' <<<"$out" || die "plain format changed: $out"
JOURNAL_STREAM=8:12345 start_serve "$CLI_DATA"
stop_serve
grep -qE '^<6>serving ' "$SERVE_LOG" || die "serve's info lines have no <6> prefix: $(head -3 "$SERVE_LOG")"
ok "logs: <3>/<6> prefixes and no timestamp under JOURNAL_STREAM, timestamps otherwise"
