# shellcheck shell=bash disable=SC2034 # FLOOD_* variables set here are outputs for the sourcing script
# Helpers of the DHCP and TFTP flood tests (sourced after lib.sh).
#
#   flood_serve NS DATA LOG ARGS...  `bootherd serve` inside namespace NS on br0 (iSCSI on its loopback, no web);
#                                    waits until TFTP is up; sets FLOOD_SERVE_PID
#   flood_tool NS ARGS...            flood_tools.py ARGS... inside namespace NS
#   flood_sql DATA QUERY             one number from the catalog, read-only
#   flood_if_bytes NS DIR            rx or tx byte counter of eth0 in NS
FLOOD_TOOLS=$SEC_HERE/flood_tools.py

flood_serve() {
  local ns=$1 data=$2 log=$3
  shift 3
  ip netns exec "$ns" "$BOOTHERD" serve --data "$data" --listen 127.0.0.1:0 --no-http --interface br0 "$@" \
    >"$log" 2>&1 &
  FLOOD_SERVE_PID=$!
  SEC_PIDS+=("$FLOOD_SERVE_PID")
  sec_wait_log "$log" 'tftp: serving' "$FLOOD_SERVE_PID" "bootherd serve"
}

flood_tool() {
  local ns=$1
  shift
  ip netns exec "$ns" python3 "$FLOOD_TOOLS" "$@"
}

flood_sql() {
  python3 - "$1/catalog.db" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=10)
print(db.execute(sys.argv[2]).fetchone()[0])
PY
}

flood_if_bytes() {
  ip netns exec "$1" cat "/sys/class/net/eth0/statistics/$2_bytes"
}
