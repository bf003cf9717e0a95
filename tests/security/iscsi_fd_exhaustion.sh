#!/usr/bin/env bash
# The server runs with a HARD descriptor limit of 1024 (it raises its soft limit to the hard one itself).
# 2 000 idle TCP connections (1 000 from 127.0.0.1, 1 000 from 127.0.0.2) must not stop a legitimate login
# from 127.0.0.1 (iscsi-inq, within 10 s). Then, with the per-address cap lifted so that descriptors really
# run out, the acceptor must neither spin nor die nor flood its log, and logins work again once the idle
# sockets go. `share` has no web service: HTTP connection caps are tested by the web suite.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_iscsi.sh"
sec_require_root
command -v iscsi-inq >/dev/null || { echo "SKIP: no iscsi-inq" >&2; exit 77; }

disk=$SEC_SCRATCH/disk.raw
truncate -s 64M "$disk"
url() { echo "iscsi://127.0.0.1:$SEC_ISCSI_PORT/$SEC_IQN/0"; }
login() { timeout 10 iscsi-inq -i iqn.2026-12.test:legit "$(url)" >/dev/null 2>&1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

hold_idle() {  # hold_idle N ADDR...: idle connections held by a background python until release_idle
  coproc IDLE { python3 "$SEC_HERE/iscsi_attack.py" idle "$SEC_ISCSI_PORT" "$@"; }
  SEC_PIDS+=("$IDLE_PID")
  local line
  read -r line <&"${IDLE[0]}"
  echo "$line"
}
release_idle() {
  local pid=$IDLE_PID
  eval "exec ${IDLE[1]}>&-"
  wait "$pid" 2>/dev/null || true
}

# Phase 1: default caps.
SEC_SHARE_PREFIX="ulimit -Sn 1024 && ulimit -Hn 1024" sec_share "$SEC_SCRATCH/share.log" "$disk"
grep "Max open files" "/proc/$SEC_SHARE_PID/limits"
grep "Max open files" "/proc/$SEC_SHARE_PID/limits" | grep -q " 1024 .* 1024 " || die "the server's limit is not 1024"
hold_idle 1000 127.0.0.1 127.0.0.2
sleep 1
t0=$(date +%s.%N)
if login; then
  echo "legitimate login with 2000 idle connections open: ok ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}') s)"
else
  die "a legitimate login failed with 2000 idle connections open"
fi
echo "server descriptors in use: $(find "/proc/$SEC_SHARE_PID/fd" -mindepth 1 | wc -l)"
release_idle
sec_stop "$SEC_SHARE_PID" || true

# Phase 2: no per-address cap, so accept() really fails with EMFILE.
SEC_SHARE_PREFIX="ulimit -Sn 1024 && ulimit -Hn 1024" sec_share "$SEC_SCRATCH/share2.log" "$disk" --max-connections-per-address 100000
hold_idle 1000 127.0.0.1 127.0.0.2
before=$(cpu_ticks "$SEC_SHARE_PID")
sleep 3
used=$(( $(cpu_ticks "$SEC_SHARE_PID") - before ))
kill -0 "$SEC_SHARE_PID" || die "the server died when out of descriptors"
failures=$(grep -c 'accept failed' "$SEC_SCRATCH/share2.log" || true)
echo "out of descriptors: server CPU $used ticks in 3 s, $failures 'accept failed' log lines"
[ "$used" -lt 150 ] || die "the acceptor spins when out of descriptors"
[ "$failures" -le 5 ] || die "accept failures flood the log"
release_idle
sleep 0.5
login || die "no login once the idle connections were gone"
echo "legitimate login after descriptor exhaustion: ok"
ok "idle connections and descriptor exhaustion do not lock out logins"
