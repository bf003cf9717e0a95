#!/usr/bin/env bash
# libiscsi's conformance suite (iscsi-test-cu, families SCSI and iSCSI) against `bootherd share` and, in the same
# run on an identical file, against tgt. Passes when bootherd fails no test and more tests really ran and passed
# (not skipped) than on tgt. The SCSI family runs once more against `bootherd share --direct-writes` (the O_DIRECT
# write path of flat files), which must fail nothing either.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
init1=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
init2=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2

truncate -s 256M "$SCRATCH/ours.img" "$SCRATCH/direct.img" "$SCRATCH/tgt.img"

run_suite() {  # url label [families] -> prints "passed skipped failed other" per family and keeps the logs
  local url=$1 label=$2 families=${3:-SCSI iSCSI} family
  for family in $families; do
    timeout 900 iscsi-test-cu -d --test="$family" -i "$init1" -I "$init2" "$url" >"$SCRATCH/$label-$family.log" 2>&1 || true
    echo "$label $family $(awk -f "$here/count_cunit.awk" "$SCRATCH/$label-$family.log")"
  done
}

start_share "$SCRATCH/ours.img" --iqn iqn.2026-11.org.bootherd:conformance --allow "$init1" --allow "$init2"
ours=$(run_suite "iscsi://127.0.0.1:$SHARE_PORT/iqn.2026-11.org.bootherd:conformance/0" bootherd)
stop_share

start_share "$SCRATCH/direct.img" --direct-writes --iqn iqn.2026-11.org.bootherd:direct --allow "$init1" --allow "$init2"
direct=$(run_suite "iscsi://127.0.0.1:$SHARE_PORT/iqn.2026-11.org.bootherd:direct/0" bootherd-direct SCSI)
stop_share

start_tgt "$SCRATCH/tgt.img" iqn.2026-11.org.bootherd:tgt-peer
theirs=$(run_suite "iscsi://127.0.0.1:$TGT_PORT/iqn.2026-11.org.bootherd:tgt-peer/1" tgt)

printf '%-15s %-6s %7s %8s %7s %6s\n' target family passed skipped failed other
printf '%s\n%s\n%s\n' "$ours" "$direct" "$theirs" | while read -r t f p s x o; do
  printf '%-15s %-6s %7s %8s %7s %6s\n' "$t" "$f" "$p" "$s" "$x" "$o"
done

sum() { awk -v col="$2" '{ n += $col } END { print n + 0 }' <<<"$1"; }
our_pass=$(sum "$ours" 3); our_fail=$(( $(sum "$ours" 5) + $(sum "$ours" 6) + $(sum "$direct" 5) + $(sum "$direct" 6) ))
tgt_pass=$(sum "$theirs" 3)
if [ "$our_fail" -ne 0 ]; then
  grep -hE 'Test:.*FAILED|\[FAILED\]' "$SCRATCH"/bootherd-*.log | head -n 60
  die "$our_fail conformance test(s) failed on bootherd"
fi
[ "$our_pass" -gt "$tgt_pass" ] || die "bootherd passed $our_pass tests (not skipped), tgt $tgt_pass: not more"
[ "$(sum "$direct" 3)" -gt 0 ] || die "no SCSI test ran against bootherd --direct-writes"
ok "bootherd passed $our_pass tests without skipping and failed none (direct writes: $(sum "$direct" 3) SCSI" \
  "tests, none failed); tgt passed $tgt_pass"
