# shellcheck shell=bash disable=SC2034 # SEC_* variables set here are outputs for the sourcing script
# iSCSI helpers for the attack suite, on top of lib.sh (source that first).
#
#   sec_share LOG FILE ARGS...  `bootherd share FILE` on 127.0.0.1:0 (ARGS before the exec may be given through
#                               SEC_SHARE_PREFIX, e.g. "ulimit -Hn 1024"); waits until it listens; sets
#                               SEC_SHARE_PID and SEC_ISCSI_PORT
#   sec_attack ARGS...          python3 tests/security/iscsi_attack.py ARGS...
SEC_IQN=iqn.2026-12.org.bootherd:attack
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree

sec_share() {
  local log=$1 file=$2
  shift 2
  # A subshell so that a limit set for the server (SEC_SHARE_PREFIX) stays with it.
  bash -c "${SEC_SHARE_PREFIX:-true}; exec \"\$0\" share \"\$@\"" "$BOOTHERD" "$file" --iqn "$SEC_IQN" \
    --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  SEC_SHARE_PID=$!
  SEC_PIDS+=("$SEC_SHARE_PID")
  local i
  for i in $(seq 300); do
    SEC_ISCSI_PORT=$(grep -oE 'serving .* on [0-9.]+:[0-9]+' "$log" | head -n 1 | grep -oE '[0-9]+$' || true)
    [ -n "$SEC_ISCSI_PORT" ] && return 0
    kill -0 "$SEC_SHARE_PID" 2>/dev/null || { cat "$log"; die "bootherd share exited"; }
    sleep 0.1
  done
  cat "$log"
  die "bootherd share did not start"
}

sec_attack() {
  python3 "$SEC_HERE/iscsi_attack.py" "$@"
}
