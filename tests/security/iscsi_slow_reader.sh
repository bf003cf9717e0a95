#!/usr/bin/env bash
# One session issues 8 MiB READs up to its CmdSN window and never reads the answers; another keeps reading
# 4 KiB blocks. The server's RSS must stay within 200 MiB of what it was, and the good session's worst read
# latency under 1 s (before the per-session buffer bound: RSS +1 GiB, latencies of seconds).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_iscsi.sh"
sec_require_root

disk=$SEC_SCRATCH/disk.raw
truncate -s 1G "$disk"
sec_share "$SEC_SCRATCH/share.log" "$disk"
timeout 120 python3 "$SEC_HERE/iscsi_attack.py" slow-reader "$SEC_ISCSI_PORT" "$SEC_IQN" "$SEC_SHARE_PID" ||
  die "slow reader attack succeeded (see figures above)"
kill -0 "$SEC_SHARE_PID" || die "the server died"
ok "one session cannot pin the server's memory or starve the others"
