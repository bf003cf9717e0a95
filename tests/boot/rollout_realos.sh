#!/usr/bin/env bash
# Rollouts with real machines: the Debian disk of make_debian_disk.sh booted by qemu (TCG) from one
# `bootherd serve --dhcp full` in a private network namespace (lib.sh), three non-persistent machines on image
# debian, each on its own tap so that they can run at once: ro-canary, ro-wave and ro-breaker.
#   v2           `image edit debian --on ro-wave`: its OS writes its maintenance marker into the draft; the
#                server restarts (the powered-off machine's sessions end with it) and the draft is sealed as v2
#   good         `image rollout debian 2 --canary ro-canary --waves 100% --soak 15s`: the canary boots v2 (its OS
#                reports ok), the canary stage passes after its soak, ro-wave and ro-breaker boot v2 at once,
#                the rollout succeeds and v2 is the promoted version, with no admin action in between
#   v3           `image edit debian --on ro-breaker`: a maintenance boot by a node named *-breaker makes the OS
#                mark the version broken (tests/boot/realos/bootherd-os); sealed as v3
#   bad          `image rollout debian 3 --canary ro-canary ...`: the canary's OS boots v3, reports failed health
#                and reboots; the rollout is rolled_back on its own, v2 stays promoted; then all three
#                machines boot at once: every one boots v2 (the OS line's boot count: v2's machines count 2, v3's
#                3, and the boot records' versions), and no machine but the canary ever had a boot of v3
# The OS lines' boot counts identify the version (each maintenance boot is counted in the image it makes).
# At the end it prints the timeline of both rollouts: their events and every boot record, with times.
# Usage: rollout_realos.sh BOOTHERD_BINARY [CACHE_DIR]   (the Debian disk is cached there, see make_debian_disk.sh)
# Run as root. Exits 77 if it cannot run here. BOOT_KEEP=1 keeps the scratch folder (serial and serve logs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BOOT_QEMU_MEM=${BOOT_QEMU_MEM:-384}
# shellcheck source=tests/boot/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/boot/bootherd_lib.sh
. "$here/bootherd_lib.sh"

test_t0=$EPOCHREALTIME
bootherd=$(realpath "${1:?usage: rollout_realos.sh BOOTHERD_BINARY [CACHE_DIR]}")
cache=${2:-${BOOT_CACHE_DIR:-/var/tmp/bootherd-boot-cache}}
OS_LIMIT=${OS_LIMIT:-300}   # seconds from power-on to the OS's line (up to three guests share the cores)
OFF_LIMIT=${OFF_LIMIT:-120} # seconds from the OS's line to its power-off (or its reboot, which ends qemu)
STATE_LIMIT=${STATE_LIMIT:-90} # seconds for a rollout to reach a state once its boots are done
HTTP_PORT=8080 # the port bootherd-os reports its health to
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
boot_require ip qemu-system-x86_64 qemu-img sqlite3 curl
for f in /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/qemu/pxe-e1000.rom; do
  [ -r "$f" ] || { echo "SKIP: $f missing (packages ipxe, ipxe-qemu)" >&2; exit 77; }
done

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

OS_LINE='BOOTHERD-OS boot=[0-9]+ host=[^ ]+ marker=[a-z]+ target=[^[:space:]]+'
declare -A mac tap pid t0 log
mac[ro-canary]=52:54:00:b3:00:01
mac[ro-wave]=52:54:00:b3:00:02
mac[ro-breaker]=52:54:00:b3:00:03
tap[ro-canary]=tap0
tap[ro-wave]=tap1
tap[ro-breaker]=tap2

# power_on NODE CASE: powers NODE's machine on (BIOS, its own tap); its serial log is serial-CASE.log.
power_on() {
  local node=$1
  log[$node]=$BOOT_SCRATCH/serial-$2.log
  BOOT_QEMU_TAP=${tap[$node]} boot_start_qemu bios "${log[$node]}" "${mac[$node]}"
  pid[$node]=$BOOT_QEMU_PID
  t0[$node]=$BOOT_QEMU_T0
}

# await NODE CASE REGEX: waits for NODE's OS line and for its guest to end (a power-off, or a reboot: qemu runs
# with -no-reboot); passes CASE if the line matches REGEX. Sets BOOT_MARKER_LINE.
await() {
  local node=$1 name=$2 regex=$3 i
  BOOT_QEMU_PID=${pid[$node]}
  BOOT_QEMU_T0=${t0[$node]}
  if ! boot_wait_marker "${log[$node]}" "$OS_LINE" "$OS_LIMIT"; then
    boot_stop_qemu
    fail "$name: no OS line from $node (want '$regex')"
    boot_show "${log[$node]}" 40
    return 1
  fi
  local line=$BOOT_MARKER_LINE seconds=$BOOT_SECONDS
  for ((i = 0; i < OFF_LIMIT * 10; i++)); do
    kill -0 "$BOOT_QEMU_PID" 2>/dev/null || break
    sleep 0.1
  done
  boot_stop_qemu
  if [ "$i" -ge $((OFF_LIMIT * 10)) ]; then
    fail "$name: '$line' after $seconds s, but $node's guest did not end within ${OFF_LIMIT}s"
    boot_show "${log[$node]}" 30
    return 1
  fi
  BOOT_MARKER_LINE=$line
  if [[ $line =~ ^$regex$ ]]; then
    pass "$name: $node '$line' after $seconds s"
  else
    fail "$name: $node got '$line', want '$regex'"
    return 1
  fi
}

# ---- the disk, the machines, the server
boot_setup $((RANDOM % 200 + 20))
boot_add_tap tap1
boot_add_tap tap2
t=$EPOCHREALTIME
rc=0
"$here/make_debian_disk.sh" "$BOOT_SCRATCH/debian.img" "$cache" || rc=$?
[ "$rc" -ne 77 ] || exit 77
[ "$rc" -eq 0 ] || boot_die "make_debian_disk.sh exited $rc"
echo "disk: $(elapsed "$t") s (cache $cache)"
qemu-img convert -f raw -O vhdx "$BOOT_SCRATCH/debian.img" "$BOOT_SCRATCH/debian.vhdx"
rm -f "$BOOT_SCRATCH/debian.img"
bh_init "$bootherd" "$BOOT_SCRATCH/data"
bh_cli image import debian "$BOOT_SCRATCH/debian.vhdx" >/dev/null
rm -f "$BOOT_SCRATCH/debian.vhdx"
for node in ro-canary ro-wave ro-breaker; do
  bh_cli node add "$node" --mac "${mac[$node]}" --image debian >/dev/null
done

cat >"$BOOT_SCRATCH/bootherd.toml" <<EOC
[serve]
dhcp = "full"
dhcp-range = "$BOOT_SUBNET_PREFIX.100-$BOOT_SUBNET_PREFIX.150"
EOC
BH_HTTP=$BOOT_SERVER_IP:$HTTP_PORT
serve_runs=0
serve() {
  serve_runs=$((serve_runs + 1))
  bh_start_serve "$BOOT_SCRATCH/serve-$serve_runs.log" --config "$BOOT_SCRATCH/bootherd.toml"
}
serve
echo "bootherd serve --dhcp full on br0 ($BOOT_SERVER_IP), web on $BH_HTTP"

# ---- reading the catalog
catalog() { sqlite3 -readonly "$BH_DATA/catalog.db" "$1"; }
# rollout_state ID: the rollout's state (running, paused, succeeded, rolled_back, aborted).
rollout_state() { catalog "SELECT state FROM rollouts WHERE id = $1"; }
# stage_passed ID INDEX: true once the rollout's stage INDEX (0: the canary) has passed.
stage_passed() { [ -n "$(catalog "SELECT passed_at FROM rollout_stages WHERE rollout_id = $1 AND idx = $2")" ]; }

# wait_for LIMIT WHAT CMD...: runs CMD every second until it succeeds; 1 after LIMIT seconds.
wait_for() {
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit; i++)); do
    "$@" && return 0
    sleep 1
  done
  echo "gave up after ${limit}s waiting for $what" >&2
  return 1
}
state_is() { [ "$(rollout_state "$1")" = "$2" ]; }

# promoted: the image's promoted version number.
promoted() { bh_cli image show debian | sed -nE 's/.* promoted v([0-9]+).*/\1/p' | head -n 1; }

# boots: every boot record of image debian, oldest first, one a line:
#   ID NODE VERSION DRAFT(0|1) OUTCOME REASON STARTED_MS ENDED_MS   (ENDED_MS "-" while it runs)
boots() {
  bh_api GET "/api/v1/boots?image=debian&limit=1000" | /usr/bin/python3 -c '
import json, sys
for b in sorted(json.load(sys.stdin)["items"], key=lambda b: b["id"]):
    print(b["id"], b["node"], b["version"], int(bool(b["draft"])), b["outcome"], b["reason"] or "-",
          b["started_at"], b["ended_at"] if b["ended_at"] is not None else "-")'
}

# newest_boot NODE: "VERSION OUTCOME REASON" of NODE's newest boot record.
newest_boot() { boots | awk -v n="$1" '$2 == n { v = $3 " " $5 " " $6 } END { print v }'; }

# ---- making a version with a maintenance boot
# make_version NODE CASE: NODE boots the draft of debian (its OS edits it), the server restarts (a powered-off
# machine never logs out; its sessions end with the server), and the draft is sealed as version VERSION.
make_version() {
  local node=$1 name=$2 want=$3 out
  bh_cli image edit debian --on "$node" >/dev/null || { fail "$name: image edit debian --on $node"; return 1; }
  power_on "$node" "$name"
  await "$node" "$name" "BOOTHERD-OS boot=[0-9]+ .*target=iqn.2026-11.org.bootherd:draft.debian" || return 1
  grep -aq BOOTHERD-OS-MAINTAINED "${log[$node]}" || { fail "$name: the OS wrote no maintenance marker"; return 1; }
  bh_stop_serve
  out=$(bh_cli image commit debian 2>&1) || { fail "$name: image commit: $out"; serve; return 1; }
  serve
  [[ $out == "sealed debian v$want "* ]] || { fail "$name: image commit said '$out', want v$want"; return 1; }
}

# ---- a) a good version goes canary -> wave -> promoted
good_id=""
good_case() {
  local out
  make_version ro-wave make-v2 2 || return
  out=$(bh_cli image rollout debian 2 --canary ro-canary --waves 100% --soak 15s) ||
    { fail "good: image rollout debian 2: $out"; return; }
  good_id=$(sed -nE 's/^rollout ([0-9]+).*/\1/p' <<<"$out" | head -n 1)
  echo "$out"
  power_on ro-canary good-canary
  await ro-canary good-canary 'BOOTHERD-OS boot=2 .*target=[^ ]*:node.ro-canary' || return
  wait_for "$STATE_LIMIT" "the canary stage of rollout $good_id to pass" stage_passed "$good_id" 0 ||
    { fail "good: the canary stage did not pass: $(bh_cli rollout status "$good_id" | tr '\n' ';')"; return; }
  power_on ro-wave good-wave
  power_on ro-breaker good-breaker
  await ro-wave good-wave 'BOOTHERD-OS boot=2 .*target=[^ ]*:node.ro-wave' || true
  await ro-breaker good-breaker 'BOOTHERD-OS boot=2 .*target=[^ ]*:node.ro-breaker' || true
  if wait_for "$STATE_LIMIT" "rollout $good_id to succeed" state_is "$good_id" succeeded &&
    [ "$(promoted)" = 2 ]; then
    pass "good: rollout $good_id succeeded on its own, debian's promoted version is v2"
  else
    fail "good: rollout $good_id is $(rollout_state "$good_id"), promoted v$(promoted) (want succeeded, v2)"
  fi
}

# ---- b) a broken version stops at the canary and rolls back
bad_id=""
bad_case() {
  local out node versions since
  make_version ro-breaker make-v3 3 || return
  grep -aq BOOTHERD-OS-BROKE-IMAGE "${log[ro-breaker]}" || { fail "make-v3: the OS did not mark v3 broken"; return; }
  since=$(date +%s%3N) # the maintenance boot that made v3 is on record as a boot of v3 too: count from here
  out=$(bh_cli image rollout debian 3 --canary ro-canary --waves 100% --soak 15s) ||
    { fail "bad: image rollout debian 3: $out"; return; }
  bad_id=$(sed -nE 's/^rollout ([0-9]+).*/\1/p' <<<"$out" | head -n 1)
  echo "$out"
  power_on ro-canary bad-canary
  await ro-canary bad-canary 'BOOTHERD-OS boot=3 .*target=[^ ]*:node.ro-canary' || return
  grep -aq BOOTHERD-OS-BROKEN "${log[ro-canary]}" || { fail "bad: v3's OS did not fail"; return; }
  if wait_for "$STATE_LIMIT" "rollout $bad_id to roll back" state_is "$bad_id" rolled_back &&
    [ "$(promoted)" = 2 ]; then
    pass "bad: rollout $bad_id rolled back on its own after the canary's boot ($(newest_boot ro-canary)), v2 still promoted"
  else
    fail "bad: rollout $bad_id is $(rollout_state "$bad_id"), promoted v$(promoted) (want rolled_back, v2)"
    return
  fi
  # Every machine's next boot: v2 again for the canary, v2 for the others.
  for node in ro-canary ro-wave ro-breaker; do power_on "$node" "after-$node"; done
  for node in ro-canary ro-wave ro-breaker; do
    await "$node" "after-$node" "BOOTHERD-OS boot=2 .*target=[^ ]*:node.$node" || continue
    out=$(newest_boot "$node")
    if [[ $out == "2 ok "* ]]; then
      pass "after-$node: its boot record: v$out"
    else
      fail "after-$node: its newest boot record is '$out', want v2 ok"
    fi
  done
  versions=$(boots | awk -v since="$since" '$3 == 3 && $7 >= since { print $2 }' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  if [ "$versions" = " 1 ro-canary;" ]; then
    pass "bad: since the rollout started v3 was booted once, by the canary, by no other machine"
  else
    fail "bad: boots of v3 (count node): '$versions', want one by ro-canary"
  fi
}

good_case
bad_case

# ---- the timeline
hms() { date -u -d "@$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" +%H:%M:%S.%3N; }
# Both rollouts' events and every boot record (at its start, with its end), in time order.
timeline() {
  local id
  for id in $good_id $bad_id; do
    sqlite3 -readonly -separator ' ' "$BH_DATA/catalog.db" \
      "SELECT at, kind, detail FROM rollout_events WHERE rollout_id = $id ORDER BY id" |
      while read -r at kind detail; do echo "$at $(hms "$at") rollout $id: $kind $detail"; done
  done
  boots | while read -r _ node version draft outcome reason started ended; do
    local what="v$version" end="(running)"
    [ "$draft" = 0 ] || what="draft v$version"
    [ "$ended" = - ] || end="$(hms "$ended") ($(((ended - started) / 1000)) s)"
    echo "$started $(hms "$started") boot $node $what -> $outcome ($reason) at $end"
  done
}
echo "---- timeline (UTC)"
timeline | sort -n -k1,1 | cut -d' ' -f2-
bh_stop_serve

echo "$passed passed, $failed failed; total $(elapsed "$test_t0") s"
[ "$failed" -eq 0 ]
