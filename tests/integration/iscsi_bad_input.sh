#!/usr/bin/env bash
# Malformed and hostile PDUs against bootherd share (see iscsi_bad_input.py).
source "$(dirname "$0")/lib.sh"
python3 "$(dirname "$0")/iscsi_bad_input.py" "$BOOTHERD" "$SCRATCH"

# libiscsi answers the target's NOP-In pings: two sessions idle past two ping intervals (30 s each) must stay up
# and the server must not report unanswered pings. (iscsi_bad_input.py checks the pings themselves, and that a
# silent initiator such as iPXE is not dropped.)
load=$(dirname "$BOOTHERD")/../bench/iscsi_load
if [ -x "$load" ]; then
  truncate -s 16M "$SCRATCH/ping.img"
  iqn=iqn.2026-11.org.bootherd:ping
  start_share "$SCRATCH/ping.img" --iqn "$iqn"
  "$load" --url "iscsi://127.0.0.1:$SHARE_PORT/$iqn/0" --sessions 2 --qd 1 --idle 65 --seconds 1 \
    >"$SCRATCH/idle.out" 2>&1 || { cat "$SCRATCH/idle.out"; die "libiscsi sessions did not survive 65 s idle"; }
  grep -q 'does not answer NOP-In' "$SHARE_LOG" && { cat "$SHARE_LOG"; die "libiscsi's NOP-Out answers were not seen"; }
  stop_share
  ok "libiscsi sessions idle for 65 s answer the NOP-In pings and stay up"
else
  echo "skip: $load not built (the libiscsi NOP-In check needs it)"
fi
