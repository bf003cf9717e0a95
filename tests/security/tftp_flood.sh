#!/usr/bin/env bash
# TFTP flood: floods cannot starve enrolled machines (docs/SECURITY.md). `serve --interface br0` (TFTP only) in a
# private namespace; an attacker host sends 3 000 plain read requests, each from its own port, and never answers.
# Right after, a legitimate client (iPXE-like: blksize 1432, tsize 0) on another address must get its file within a
# few seconds, and the server must not amplify: bytes it sent to the attacker (while flooding and 6 s after) over
# bytes it got from the attacker must stay at most 3.
set -euo pipefail
# shellcheck source=tests/security/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/security/lib_flood.sh
. "$SEC_HERE/lib_flood.sh"
sec_require_root

count=${FLOOD_COUNT:-3000}
n=43
sec_lan "$n"
attacker=$(sec_host att "10.97.$n.66")
client=$(sec_host pc "10.97.$n.20")
data=$(sec_data data)
root=$(sec_data root)
head -c 200000 /dev/urandom >"$root/pxe.bin"
flood_serve "$SEC_NS" "$data" "$SEC_SCRATCH/serve.log" --dhcp off --tftp-root "$root"

rx0=$(flood_if_bytes "$attacker" rx)
tx0=$(flood_if_bytes "$attacker" tx)
FLOOD_HOLD=6 flood_tool "$attacker" tftp-flood "$SEC_SERVER_IP" "$count" 1 >"$SEC_SCRATCH/flood.out" &
flood_pid=$!
for _ in $(seq 100); do
  [ -s "$SEC_SCRATCH/flood.out" ] && break
  sleep 0.1
done
status=0
got=$(timeout 10 ip netns exec "$client" python3 "$FLOOD_TOOLS" tftp-get "$SEC_SERVER_IP" pxe.bin 2>&1) || status=$?
wait "$flood_pid"
rx=$(($(flood_if_bytes "$attacker" rx) - rx0))
tx=$(($(flood_if_bytes "$attacker" tx) - tx0))
sec_stop "$FLOOD_SERVE_PID" || true

ratio=$(python3 -c "print(f'{$rx / max($tx, 1):.2f}')")
echo "attacker: $(head -n 1 "$SEC_SCRATCH/flood.out"); it sent $tx bytes, the server sent it $rx bytes" \
  "(amplification ${ratio}x); legitimate client: ${got:-nothing} (exit $status)"
problems=""
if [ "$status" -ne 0 ] || ! [[ "$got" =~ ^bytes\ 200000\ seconds\ ([0-9.]+) ]]; then
  problems+=" the legitimate client did not get its file;"
elif python3 -c "import sys; sys.exit(${BASH_REMATCH[1]} <= 5)"; then
  problems+=" the legitimate client waited more than 5 s;"
fi
python3 -c "import sys; sys.exit($rx > 3 * $tx)" || problems+=" amplification above 3x;"
[ -z "$problems" ] || die "$problems"
ok "tftp flood: legitimate client served, amplification ${ratio}x"
