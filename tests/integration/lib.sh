# Shared helpers for the integration tests (sourced). Everything runs on 127.0.0.1 with ephemeral ports,
# inside a scratch directory removed on exit, and every server started here is stopped on exit.
set -euo pipefail

: "${BOOTHERD:?set BOOTHERD to the bootherd binary}"
SCRATCH=$(mktemp -d /tmp/bootherd-it.XXXXXX)
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# Starts `bootherd share FILE ARGS...` on an ephemeral port; sets SHARE_PID, SHARE_PORT, SHARE_LOG.
start_share() {
  local file=$1
  shift
  SHARE_LOG=$SCRATCH/share-$RANDOM.log
  "$BOOTHERD" share "$file" --listen 127.0.0.1:0 "$@" >"$SHARE_LOG" 2>&1 &
  SHARE_PID=$!
  PIDS+=("$SHARE_PID")
  local i
  for i in $(seq 100); do
    SHARE_PORT=$(grep -oE 'on 127\.0\.0\.1:[0-9]+' "$SHARE_LOG" | head -n 1 | cut -d: -f2 || true)
    [ -n "$SHARE_PORT" ] && return 0
    kill -0 "$SHARE_PID" 2>/dev/null || { cat "$SHARE_LOG"; die "bootherd share exited"; }
    sleep 0.1
  done
  cat "$SHARE_LOG"
  die "bootherd share did not start"
}

# Stops the share gracefully (SIGTERM) and checks it exits cleanly.
stop_share() {
  kill -TERM "$SHARE_PID"
  local rc=0
  wait "$SHARE_PID" || rc=$?
  [ "$rc" -eq 0 ] || { cat "$SHARE_LOG"; die "bootherd share exited with $rc after SIGTERM"; }
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts tgtd on an ephemeral port with FILE as LUN 1 of IQN; sets TGT_PID, TGT_PORT, TGT_CTL.
start_tgt() {
  local file=$1 iqn=$2
  TGT_PORT=$(free_port)
  TGT_CTL=$((100 + RANDOM % 800))
  tgtd -f -C "$TGT_CTL" --iscsi portal=127.0.0.1:"$TGT_PORT" >"$SCRATCH/tgtd.log" 2>&1 &
  TGT_PID=$!
  PIDS+=("$TGT_PID")
  local i
  for i in $(seq 50); do
    tgtadm -C "$TGT_CTL" --lld iscsi --op show --mode target >/dev/null 2>&1 && break
    sleep 0.1
  done
  tgtadm -C "$TGT_CTL" --lld iscsi --op new --mode target --tid 1 -T "$iqn"
  tgtadm -C "$TGT_CTL" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$file"
  tgtadm -C "$TGT_CTL" --lld iscsi --op bind --mode target --tid 1 -I ALL
}

# expect_fail PATTERN COMMAND...: the command must fail with PATTERN in its output (left in OUT).
expect_fail() {
  local pattern=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] && grep -qF -- "$pattern" <<<"$OUT" || die "$* (rc=$rc) did not fail with '$pattern': $OUT"
}

# start_serve DATA [ARGS...]: `bootherd serve` on 127.0.0.1 with ephemeral iSCSI and web ports; sets SERVE_PID,
# SERVE_LOG, PORT (iSCSI) and HTTP (web). stop_serve stops it with SIGTERM and checks it exits cleanly.
start_serve() {
  local data=$1
  shift
  SERVE_LOG=$SCRATCH/serve-$RANDOM.log
  "$BOOTHERD" serve --data "$data" --listen 127.0.0.1:0 --listen-http 127.0.0.1:0 "$@" >"$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  PORT= HTTP=
  local i
  for i in $(seq 100); do
    PORT=$(grep -oE 'serving .* on 127\.0\.0\.1:[0-9]+' "$SERVE_LOG" | head -n 1 | grep -oE '[0-9]+$' || true)
    HTTP=$(grep -oE 'web on 127\.0\.0\.1:[0-9]+' "$SERVE_LOG" | head -n 1 | grep -oE '[0-9]+$' || true)
    [ -n "$PORT" ] && [ -n "$HTTP" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$SERVE_LOG"; die "bootherd serve exited"; }
    sleep 0.1
  done
  cat "$SERVE_LOG"
  die "bootherd serve did not start"
}
stop_serve() {
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID" || { cat "$SERVE_LOG"; die "bootherd serve did not stop cleanly"; }
}
