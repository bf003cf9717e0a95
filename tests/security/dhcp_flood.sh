#!/usr/bin/env bash
# DHCP flood: floods cannot starve enrolled machines (docs/SECURITY.md). `serve --dhcp full --discovery`, then
# `--auto-enrol`, on br0 of a private namespace; an attacker host sends 5 000 spoofed PXE DHCPDISCOVERs with random
# MACs in ~5 s (raw frames) while an enrolled machine boots over and over (DISCOVER/OFFER/REQUEST/ACK, RELEASE).
# Fails if the enrolled machine misses an answer (after one retransmission, as real clients do), or if discovered
# rows, DHCP events of unknown MACs or auto-enrolments exceed what the default rate caps allow in that time
# (20 + 10/s new unknown MACs, 20 + 5/s events, 10 + 2/s enrolments; 1000 discovered rows).
set -euo pipefail
# shellcheck source=tests/security/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/security/lib_flood.sh
. "$SEC_HERE/lib_flood.sh"
sec_require_root

enrolled_mac=52:54:00:aa:00:01
count=${FLOOD_COUNT:-5000}
failed=0

# flood_case NAME N SERVE_ARGS...: one server, one flood, one enrolled machine; prints and checks the figures.
flood_case() {
  local name=$1 n=$2
  shift 2
  sec_lan "$n"
  local attacker client data log
  attacker=$(sec_host att "10.97.$n.66")
  client=$(sec_host pc "10.97.$n.20" "$enrolled_mac")
  data=$(sec_data "$name")
  sec_cli "$data" node add enrolled --mac "$enrolled_mac" >/dev/null
  log=$SEC_SCRATCH/$name.log
  flood_serve "$SEC_NS" "$data" "$log" --dhcp full --dhcp-range "10.97.$n.100-10.97.$n.150" "$@"

  local start flood_pid result
  start=$(date +%s)
  flood_tool "$attacker" dhcp-flood eth0 "$count" 5 >"$SEC_SCRATCH/$name.flood" &
  flood_pid=$!
  sleep 0.5  # the pool is under attack before the enrolled machine's first boot
  result=$(flood_tool "$client" dhcp-client eth0 "$enrolled_mac" 7 2>"$SEC_SCRATCH/$name.client")
  wait "$flood_pid"
  sleep 1  # the event writer runs behind
  local seconds=$(($(date +%s) - start + 1))
  sec_stop "$FLOOD_SERVE_PID" || true

  local attempts answered first rows events nodes
  read -r _ attempts _ answered _ first <<<"$result"
  rows=$(flood_sql "$data" "SELECT count(*) FROM discovered")
  events=$(flood_sql "$data" "SELECT count(*) FROM events WHERE mac IS NOT '$enrolled_mac'")
  nodes=$(($(flood_sql "$data" "SELECT count(*) FROM nodes") - 1))
  local row_cap=$((20 + 10 * seconds)) event_cap=$((20 + 5 * seconds)) enrol_cap=$((10 + 2 * seconds))
  [ "$row_cap" -le 1000 ] || row_cap=1000
  echo "$name: $(cat "$SEC_SCRATCH/$name.flood"); over ${seconds} s the enrolled machine got $answered/$attempts" \
    "boots answered ($first at the first try); discovered rows $rows (cap $row_cap), events of unknown MACs" \
    "$events (cap $event_cap), auto-enrolled $nodes (cap $enrol_cap)"
  local problems=""
  [ "$attempts" -gt 0 ] && [ "$answered" -eq "$attempts" ] || problems+=" enrolled machine missed answers;"
  [ "$rows" -le "$row_cap" ] || problems+=" too many discovered rows;"
  [ "$events" -le "$event_cap" ] || problems+=" too many events;"
  [ "$nodes" -le "$enrol_cap" ] || problems+=" too many auto-enrolments;"
  if [ -n "$problems" ]; then
    echo "FAIL: $name:$problems" >&2
    sed 's/^/  client: /' "$SEC_SCRATCH/$name.client" | head -n 5 >&2
    failed=1
  else
    ok "$name"
  fi
}

flood_case discovery 41 --discovery
flood_case auto-enrol 42 --auto-enrol 'node-{n:04}'
[ "$failed" -eq 0 ] || exit 1
