#!/usr/bin/env bash
# A rollout through the real CLI and a running `bootherd serve`, with machines played by curl (the boot
# script) and libiscsi's iscsi-inq (the firmware's login, then the OS's): serve runs with a 2 s ok window and
# a 4 s OS-login timeout, so a boot is ok 2 s after its OS login and failed when no OS login comes in 4 s.
# v2 goes canary -> wave -> promoted by itself; v3's canary never logs in, so the rollout halts, rolls back,
# and every machine's next boot gets v2. Promote is refused meanwhile, naming the rollout.
source "$(dirname "$0")/lib.sh"

DATA=$SCRATCH/data
bh() { "$BOOTHERD" "$@" --data "$DATA"; }

IMG=$SCRATCH/base.raw
truncate -s 16M "$IMG"
bh image import base "$IMG" >/dev/null
for n in 1 2 3; do # reached from 127.0.0.1, so no address binding
  bh node add pc$n --mac 52:54:00:00:02:0$n --image base --no-bind-address >/dev/null
done
new_version() { bh image edit base >/dev/null && bh image commit base >/dev/null; }
new_version # v2

start_serve "$DATA" --boot-ok-window 2 --boot-os-login-timeout 4

field() { bh node show "$1" | sed -n "s/^$2=//p"; }
# pc$1 boots: its script (a fresh disk on the version the rollout picks); with "up", the firmware's and the
# OS's logins follow. Prints the version its disk now sits on.
boot() {
  curl -sf "http://127.0.0.1:$HTTP/boot/52:54:00:00:02:0$1.ipxe" >/dev/null || die "no script for pc$1"
  if [ "${2:-}" = up ]; then
    local url="iscsi://$(field pc$1 chap_user)%$(field pc$1 chap_secret)@127.0.0.1:$PORT/$(field pc$1 target)/0"
    iscsi-inq -i "$(field pc$1 initiator)" "$url" >/dev/null || die "pc$1's firmware login failed"
    sleep 0.5 # the event writer orders the logins by arrival
    iscsi-inq -i "$(field pc$1 initiator)" "$url" >/dev/null || die "pc$1's OS login failed"
  fi
  field pc$1 version
}
state() { bh rollout status "$1" | head -n 1 | sed -E 's/.*v[0-9]+ -> v[0-9]+, ([a-z_]+), stage ([a-z0-9 ]+) .*/\1 \2/'; }
wait_state() { # ID "STATE STAGE"
  local i
  for i in $(seq 60); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.5; done
  bh rollout status "$1"
  die "rollout $1 is '$(state "$1")', not '$2'"
}

# --- v2: canary pc1, then the wave pc2+pc3 ---
out=$(bh image rollout base 2 --canary pc1 --waves 100% --soak 2s) || die "image rollout failed"
R=$(sed -n 's/^rollout \([0-9]*\) of base.*/\1/p' <<<"$out")
[ -n "$R" ] || die "image rollout did not name the rollout: $out"
grep -q '^  canary: pc1 ' <<<"$out" && grep -q '^  wave 1: pc2,pc3 ' <<<"$out" || die "unexpected stages: $out"
expect_fail "rollout $R (v1 -> v2) is running" bh image promote base 2
expect_fail "rollout $R (v1 -> v2) is running" bh image rollback base
expect_fail "is active on image base" bh image rollout base 2
ok "image rollout makes the stages; promote, rollback and a second rollout are refused, naming rollout $R"

[ "$(boot 2)" = 1 ] || die "a wave machine got the new version during the canary stage"
[ "$(boot 1 up)" = 2 ] || die "the canary did not get v2"
ok "during the canary stage only the canary boots v2"
wait_state "$R" "running wave 1"
ok "the canary's boot ended ok and the soak passed: the wave started by itself"
[ "$(boot 2 up)" = 2 ] && [ "$(boot 3 up)" = 2 ] || die "the wave machines did not get v2"
wait_state "$R" "succeeded wave 1"
bh image versions base | grep -E '^v2 ' | grep -q '\*' || die "v2 is not promoted: $(bh image versions base)"
ok "the wave passed: rollout $R succeeded and promoted v2 with no admin action"

# --- v3: the canary never reaches its OS ---
new_version # v3
out=$(bh image rollout base 3 --canary pc1 --waves 100% --soak 2s) || die "image rollout v3 failed"
R3=$(sed -n 's/^rollout \([0-9]*\) of base.*/\1/p' <<<"$out")
[ "$(boot 1)" = 3 ] || die "the canary did not get v3"
wait_state "$R3" "rolled_back canary"
bh rollout status "$R3" | grep -q '^reason: stage canary: 1 failed boot(s), 0 allowed: pc1 (no_os_login)' ||
  die "the halt does not say why: $(bh rollout status "$R3")"
grep -q "rollout $R3 of base v3 halted and rolled back to v2" "$SERVE_LOG" || die "no log line for the halt"
halted=$(sqlite3 "file:$DATA/catalog.db?mode=ro" "SELECT count(*) FROM events WHERE kind = 'rollout.halted' AND detail LIKE '%\"node\":\"pc1\"%no_os_login%'")
[ "$halted" = 1 ] || die "no rollout.halted event naming pc1"
ok "v3's canary timed out: rollout $R3 halted by itself (status, log and event name pc1 and no_os_login)"
[ "$(boot 1)" = 2 ] && [ "$(boot 2)" = 2 ] && [ "$(boot 3)" = 2 ] || die "a machine did not go back to v2"
bh image versions base | grep -E '^v2 ' | grep -q '\*' || die "v2 is no longer promoted"
ok "after the halt the canary and the wave machines boot v2; v3 never reached the wave"

# --- admin actions ---
bh rollout resume "$R3" | grep -q "running" || die "resume failed"
[ "$(boot 1)" = 3 ] || die "after resume the canary did not get v3 again"
bh rollout pause "$R3" | grep -q "paused" || die "pause failed"
expect_fail "is not running" bh rollout pause "$R3"
bh rollout abort "$R3" | grep -q "aborted" || die "abort failed"
[ "$(boot 1)" = 2 ] || die "after abort the canary did not boot v2"
expect_fail "has ended" bh rollout abort "$R3"
bh image promote base 3 >/dev/null || die "promote is still refused after the rollout ended"
bh rollout list | grep -qE "^$R3 +base +v2 +v3 +aborted" || die "rollout list: $(bh rollout list)"
ok "resume, pause, abort act and are refused when they cannot apply; promote works again once it ended"
