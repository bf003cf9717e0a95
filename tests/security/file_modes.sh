#!/usr/bin/env bash
# Secrets at rest: the data directory holds the catalog (CHAP secrets, password hashes), the first admin
# password and every machine's disk. After an import, a node's first disk, a draft and `serve`, nothing in it
# may be readable by group or others (directory 0700, catalog.db and its -wal/-shm 0600). An existing install
# left with 0644/0755 modes is fixed when serve starts, with a log line.
source "$(dirname "$0")/lib.sh"
sec_require_root

DATA=$(sec_data data)
RAW=$SEC_SCRATCH/base.raw
truncate -s 4M "$RAW"
dd if=/dev/urandom of="$RAW" bs=64K count=2 conv=notrunc status=none
sec_cli "$DATA" image import base "$RAW" >/dev/null
sec_cli "$DATA" node add pc1 --mac 52:54:00:00:00:01 --image base >/dev/null # its first disk
sec_cli "$DATA" image edit base >/dev/null                                   # a draft
ls "$DATA"/nodes/pc1-*.vhdx >/dev/null || die "node pc1 got no disk"

mode() { stat -c %a "$1"; }
# Every path under DATA that group or others can use, symbolic links aside.
shared() { find "$DATA" ! -type l -perm /077 -printf '%m %P\n'; }

check_private() { # WHEN
  [ "$(mode "$DATA")" = 700 ] || die "$1: data directory is $(mode "$DATA"), not 700"
  local f
  for f in catalog.db catalog.db-wal catalog.db-shm; do
    [ -e "$DATA/$f" ] || die "$1: $f is missing (serve keeps the WAL open)"
    [ "$(mode "$DATA/$f")" = 600 ] || die "$1: $f is $(mode "$DATA/$f"), not 600"
  done
  local leaks
  leaks=$(shared)
  [ -z "$leaks" ] || die "$1: group/other can reach:"$'\n'"$leaks"
  ok "$1: data directory 700, catalog.db(-wal,-shm) 600, no file or directory open to group or others"
}

sec_serve "$DATA" "$SEC_SCRATCH/serve1.log"
[ -z "$(find "$DATA" -name initial-admin-password ! -perm 600)" ] || die "initial-admin-password is not 600"
check_private "fresh install, serving"
sec_stop "$SEC_SERVE_PID" || true

# An install made by an older version: world-readable catalog, disks, directories.
chmod 755 "$DATA" "$DATA"/images "$DATA"/images/base "$DATA"/nodes
chmod 644 "$DATA"/catalog.db "$DATA"/nodes/*.vhdx "$DATA"/images/base/v2.vhdx
chmod 444 "$DATA"/images/base/v1.vhdx
sec_serve "$DATA" "$SEC_SCRATCH/serve2.log"
check_private "an install with 0644/0755 modes, after serve started"
grep -E 'took group and other access away from .*catalog\.db' "$SEC_SCRATCH/serve2.log" ||
  die "no log line names what was fixed: $(cat "$SEC_SCRATCH/serve2.log")"
ok "the fix is logged"
sec_stop "$SEC_SERVE_PID" || true
