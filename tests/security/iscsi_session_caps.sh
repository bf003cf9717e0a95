#!/usr/bin/env bash
# Logins to one target beyond --max-sessions-per-target (default 2): from a second address they are refused;
# a machine rebooting at the first address (new ISIDs, its old sessions left open) always gets in, replacing
# its own oldest sessions.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_iscsi.sh"
sec_require_root

disk=$SEC_SCRATCH/disk.raw
truncate -s 64M "$disk"
sec_share "$SEC_SCRATCH/share.log" "$disk"
timeout 120 python3 "$SEC_HERE/iscsi_attack.py" session-caps "$SEC_ISCSI_PORT" "$SEC_IQN" ||
  die "session caps not enforced (see above)"
ok "sessions per target are capped and a rebooted machine still gets in"
