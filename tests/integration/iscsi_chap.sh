#!/usr/bin/env bash
# CHAP and mutual CHAP with libiscsi's iscsi-inq / iscsi-ls: right credentials pass, wrong or missing are refused.
source "$(dirname "$0")/lib.sh"
truncate -s 16M "$SCRATCH/disk.img"
iqn=iqn.2026-11.org.bootherd:chap
user=alice
secret=correct-horse-battery
tuser=target-bob
tsecret=staple-42-target-secret

expect_ok() { local what=$1; shift; "$@" >"$SCRATCH/out" 2>&1 || { cat "$SCRATCH/out"; die "$what"; }; ok "$what"; }
expect_refused() { local what=$1; shift; if "$@" >"$SCRATCH/out" 2>&1; then cat "$SCRATCH/out"; die "$what"; fi; ok "$what"; }

# One-way CHAP.
start_share "$SCRATCH/disk.img" --iqn "$iqn" --chap "$user:$secret"
base=127.0.0.1:$SHARE_PORT
expect_ok "one-way CHAP with the right secret" iscsi-inq "iscsi://$user%$secret@$base/$iqn/0"
expect_refused "one-way CHAP with a wrong secret" iscsi-inq "iscsi://$user%wrong-secret-123@$base/$iqn/0"
expect_refused "one-way CHAP with a wrong user" iscsi-inq "iscsi://mallory%$secret@$base/$iqn/0"
expect_refused "no credentials where CHAP is required" iscsi-inq "iscsi://$base/$iqn/0"
grep -q "$iqn" <(iscsi-ls -s "iscsi://$user%$secret@$base" 2>&1) || die "discovery with CHAP does not list the target"
ok "discovery (iscsi-ls) with CHAP lists the target"
if iscsi-ls -s "iscsi://$base" 2>&1 | grep -q "$iqn"; then
  die "discovery without credentials shows a CHAP-protected target"
fi
ok "discovery without credentials hides the CHAP-protected target"
stop_share

# Mutual CHAP: the initiator also checks the target's answer.
start_share "$SCRATCH/disk.img" --iqn "$iqn" --chap "$user:$secret" --mutual-chap "$tuser:$tsecret"
base=127.0.0.1:$SHARE_PORT
expect_ok "mutual CHAP with the right secrets" \
  iscsi-inq "iscsi://$user%$secret@$base/$iqn/0?target_user=$tuser&target_password=$tsecret"
expect_refused "mutual CHAP where the initiator expects another target secret" \
  iscsi-inq "iscsi://$user%$secret@$base/$iqn/0?target_user=$tuser&target_password=not-the-target-secret"
expect_refused "mutual CHAP with a wrong initiator secret" \
  iscsi-inq "iscsi://$user%nope-nope-nope@$base/$iqn/0?target_user=$tuser&target_password=$tsecret"
stop_share

# Initiator allow-list.
start_share "$SCRATCH/disk.img" --iqn "$iqn" --allow iqn.2026-11.org.example:allowed
base=127.0.0.1:$SHARE_PORT
expect_ok "an allowed initiator logs in" iscsi-inq -i iqn.2026-11.org.example:allowed "iscsi://$base/$iqn/0"
expect_refused "another initiator is refused" iscsi-inq -i iqn.2026-11.org.example:intruder "iscsi://$base/$iqn/0"
if iscsi-ls -i iqn.2026-11.org.example:intruder -s "iscsi://$base" 2>&1 | grep -q "$iqn"; then
  die "discovery shows the target to an initiator that may not log in"
fi
ok "discovery hides the target from an initiator that may not log in"
stop_share
