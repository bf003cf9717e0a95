#!/usr/bin/env bash
# Rollout benchmark: `bootherd image rollout` across N simulated machines (default 256) that keep rebooting.
#
#   (0) a private network namespace: lo with one /32 address per machine (10.77.x.y), a bridge bh0 without ports
#       (10.77.0.1/16) for `serve --dhcp full`; image "bench" (a small raw disk) as v1, an empty edit sealed as
#       v2; N non-persistent machines enrolled from CSV, each with its address as its fixed address;
#   (1) `bootherd serve` in the namespace (iSCSI on every address, web on 10.77.0.1) and `bootstorm` in machine
#       mode (boot_machine.hpp): every machine fetches its script from its own address, logs in as firmware
#       (replaying a small trace) and as OS, reports health after --os-seconds, and boots again after
#       --reboot-delay. Once every machine has booted v1 ok,
#   (2) `bootherd image rollout bench 2 --canary 8 --waves 25%,100% --max-parallel 32 --soak 10s`; the machines
#       go on rebooting until the rollout has ended (succeeded, or halted);
#   (3) from the catalog: each stage's duration (its start to its pass, from the rollout's stages and history)
#       and the most machines of the stage booting v2 at once while it ran (the intervals [script_at,
#       ended_at] of their boot records of v2), against --max-parallel.
# Exit status: 0 when the rollout succeeded and no stage went over --max-parallel, 1 otherwise, 2 when the run
# itself failed. Loopback only (inside the namespace); everything it starts or makes is removed on exit.
# Run as root. See README.md.
set -euo pipefail
# shellcheck source=tools/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]            (each option also has an environment variable)
  --machines N       ROLLOUT_MACHINES      simulated machines (default 256, at most 2500)
  --canary SPEC      ROLLOUT_CANARY        canary: N, GROUP or NODE,... (default 8)
  --waves SPEC       ROLLOUT_WAVES         waves (default 25%,100%)
  --max-parallel M   ROLLOUT_MAX_PARALLEL  machines of a stage booting the new version at once (default 32)
  --soak DURATION    ROLLOUT_SOAK          soak per stage (default 10s)
  --os-seconds S     ROLLOUT_OS_SECONDS    a machine's OS login to its health report (default 2)
  --reboot-delay S   ROLLOUT_REBOOT_DELAY  a health report to the machine's next boot (default 1)
  --limit S          ROLLOUT_LIMIT         seconds the rollout may take (default 600)
  --dir DIR          BENCH_DIR             where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --bootherd PATH    BOOTHERD              bootherd binary (default: newest of build/release and build)
  --bootstorm PATH   BOOTSTORM             bootstorm binary (default: newest of build/release and build)
EOF
    exit 2
}

machines=${ROLLOUT_MACHINES:-256}
canary=${ROLLOUT_CANARY:-8}
waves=${ROLLOUT_WAVES:-25%,100%}
max_parallel=${ROLLOUT_MAX_PARALLEL:-32}
soak=${ROLLOUT_SOAK:-10s}
os_seconds=${ROLLOUT_OS_SECONDS:-2}
reboot_delay=${ROLLOUT_REBOOT_DELAY:-1}
limit=${ROLLOUT_LIMIT:-600}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
bootherd=${BOOTHERD:-}
bootstorm=${BOOTSTORM:-}
while (($#)); do
    case $1 in
        --machines) machines=$2; shift 2 ;;
        --canary) canary=$2; shift 2 ;;
        --waves) waves=$2; shift 2 ;;
        --max-parallel) max_parallel=$2; shift 2 ;;
        --soak) soak=$2; shift 2 ;;
        --os-seconds) os_seconds=$2; shift 2 ;;
        --reboot-delay) reboot_delay=$2; shift 2 ;;
        --limit) limit=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        --bootstorm) bootstorm=$2; shift 2 ;;
        *) usage ;;
    esac
done
for v in machines max_parallel limit; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v//_/-} wants a positive whole number"
done
((machines <= 2500)) || die "--machines is at most 2500"
[[ $os_seconds =~ ^[0-9]+(\.[0-9]+)?$ && $reboot_delay =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
    die "--os-seconds and --reboot-delay want seconds"

[[ $(id -u) -eq 0 ]] || die "run as root"
for tool in ip sqlite3 awk /usr/bin/python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH") || exit
bootstorm=$(built_binary tools/bench/bootstorm "$bootstorm" "pass --bootstorm PATH") || exit
raise_fd_limit $((4 * machines + 512))

make_scratch "$parent_dir" rollout 2
ns=bh-rollout-$$
# shellcheck disable=SC2317  # runs from the EXIT trap
remove_all() {
    remove_scratch
    ip netns del "$ns" 2>/dev/null || true
}
trap remove_all EXIT
note "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; scratch $work"

# --- (0) the namespace, the image, the machines ---------------------------------------------------------------
address_of() { echo "10.77.$((1 + $1 / 250)).$((1 + $1 % 250))"; }
server=10.77.0.1
ip netns add "$ns"
{
    echo "link set lo up"
    echo "link add bh0 type bridge"
    echo "addr add $server/16 dev bh0"
    echo "link set bh0 up"
    for ((i = 0; i < machines; i++)); do echo "addr add $(address_of "$i")/32 dev lo"; done
} >"$work/ip.batch"
ip -n "$ns" -batch "$work/ip.batch"
in_ns() { ip netns exec "$ns" "$@"; }

data=$work/data
bh() { "$bootherd" "$@" --data "$data"; }
truncate -s 256M "$work/bench.img"
dd if=/dev/urandom of="$work/bench.img" bs=1M count=16 conv=notrunc status=none
bh image import bench "$work/bench.img" >"$work/import.log" 2>&1 || { cat "$work/import.log" >&2; die "image import"; }
{ bh image edit bench && bh image commit bench; } >>"$work/import.log" 2>&1 ||
    { cat "$work/import.log" >&2; die "making v2"; }
{
    echo "name,mac,image,group,persistent,hostname,ip"
    for ((i = 0; i < machines; i++)); do
        printf 'pc%04d,02:42:00:00:%02x:%02x,bench,,,,%s\n' "$i" $((i / 256)) $((i % 256)) "$(address_of "$i")"
    done
} >"$work/nodes.csv"
bh node import "$work/nodes.csv" >"$work/enrol.log" 2>&1 || { cat "$work/enrol.log" >&2; die "node import"; }
awk -F, 'NR > 1 { print $2, $7 }' "$work/nodes.csv" >"$work/machines"
# The boot trace: 4 MiB read in 128 KiB pieces, then 8 writes of 4 KiB.
awk 'BEGIN { for (o = 0; o < 4194304; o += 131072) print o, 131072, "r";
             for (i = 0; i < 8; i++) print 8388608 + i * 4096, 4096, "w" }' >"$work/boot.trace"

# --- (1) the server and the machines --------------------------------------------------------------------------
in_ns "$bootherd" serve --data "$data" --listen 0.0.0.0:3260 --listen-http "$server:8080" --interface bh0 \
    --dhcp full --dhcp-range 10.77.255.1-10.77.255.100 --retry-seconds 1 >"$work/serve.log" 2>&1 &
server_pid=$!
stop_server=stop_bootherd
wait_for_log "$work/serve.log" 'tftp: serving' "$server_pid" 60 || { tail "$work/serve.log" >&2; die "serve did not start"; }
in_ns "$bootstorm" --machines-file "$work/machines" --clients "$machines" --http "$server:8080" \
    --trace "$work/boot.trace" --boots 0 --stop-file "$work/stop" --os-seconds "$os_seconds" \
    --reboot-delay "$reboot_delay" --ramp-up 5 --timeout $((limit + 300)) >"$work/storm.out" 2>&1 &
helper_pid=$!
catalog() { sqlite3 -readonly "$data/catalog.db" "$1"; }
t0=$EPOCHREALTIME
for ((i = 0; i < 1200; i++)); do
    ok=$(catalog "SELECT count(DISTINCT node_id) FROM boots WHERE outcome = 'ok'")
    ((ok < machines)) || break
    kill -0 "$helper_pid" 2>/dev/null || { cat "$work/storm.out" >&2; die "bootstorm ended"; }
    sleep 0.5
done
((ok >= machines)) || { tail -n 20 "$work/storm.out" >&2; die "only $ok of $machines machines booted ok in 10 min"; }
note "all $machines machines booted v1 ok within $(elapsed_since "$t0") s; starting the rollout"

# --- (2) the rollout ------------------------------------------------------------------------------------------
bh image rollout bench 2 --canary "$canary" --waves "$waves" --max-parallel "$max_parallel" --soak "$soak" \
    >"$work/rollout.out" 2>&1 || { cat "$work/rollout.out" >&2; die "image rollout"; }
cat "$work/rollout.out"
id=$(sed -nE 's/^rollout ([0-9]+) .*/\1/p' "$work/rollout.out" | head -n 1)
t0=$EPOCHREALTIME
state=running
while [[ $state == running ]] && (($(elapsed_since "$t0" | cut -d. -f1) < limit)); do
    sleep 1
    state=$(catalog "SELECT state FROM rollouts WHERE id = $id")
    kill -0 "$helper_pid" 2>/dev/null || { cat "$work/storm.out" >&2; die "bootstorm ended during the rollout"; }
done
note "rollout $id: $state after $(elapsed_since "$t0") s"
touch "$work/stop"
storm_rc=0
wait "$helper_pid" || storm_rc=$?
helper_pid=""
cat "$work/storm.out"
"$bootherd" rollout status "$id" --data "$data" | grep -v '^  pc' || true
stop_bootherd
stop_server="" # for remove_scratch

# --- (3) the figures ------------------------------------------------------------------------------------------
echo
echo "Rollout across $machines simulated machines ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))," \
    "canary $canary, waves $waves, max parallel $max_parallel, soak $soak"
rc=0
/usr/bin/python3 - "$data/catalog.db" "$id" "$max_parallel" <<'PY' || rc=$?
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rid, limit = int(sys.argv[2]), int(sys.argv[3])
created, ended, state, to_version = db.execute(
    "SELECT created_at, ended_at, state, to_version_id FROM rollouts WHERE id = ?", (rid,)).fetchone()
end_of_run = ended or max(r[0] for r in db.execute("SELECT max(ended_at) FROM boots"))


def most_at_once(intervals):
    """The most intervals [start, end] open at once (an end at the same millisecond as a start comes first)."""
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    running = most = 0
    for _, step in points:
        running += step
        most = max(most, running)
    return most


print("events (seconds since the rollout started):")
for at, kind, detail in db.execute("SELECT at, kind, detail FROM rollout_events WHERE rollout_id = ? ORDER BY id", (rid,)):
    print(f"  {(at - created) / 1000:7.1f}  {kind} {detail}")
print(f"{'stage':<10} {'machines':>8} {'started':>8} {'passed':>8} {'took s':>7} {'new-version boots':>17} "
      f"{'ok':>5} {'failed':>6} {'at once':>7} {'switching at once':>17}")
worst = worst_switching = 0
for idx, name, started, passed in db.execute(
        "SELECT idx, name, started_at, passed_at FROM rollout_stages WHERE rollout_id = ? ORDER BY idx", (rid,)):
    members = [r[0] for r in db.execute(
        "SELECT node_id FROM rollout_members WHERE rollout_id = ? AND stage = ?", (rid, idx))]
    window_end = passed or end_of_run
    boots = [] if started is None else db.execute(
        f"SELECT node_id, script_at, coalesce(ended_at, ?), outcome FROM boots WHERE version_id = ? AND script_at IS NOT NULL "
        f"AND script_at >= ? AND script_at < ? AND node_id IN ({','.join('?' * len(members))})",
        (end_of_run, to_version, started, window_end, *members)).fetchall()
    most = most_at_once([(a, b) for _, a, b, _ in boots])
    # Each member's first boot of the new version in the stage: the boot its grant (the switch) started.
    first = {}
    for node, a, b, _ in sorted(boots, key=lambda r: r[1]):
        first.setdefault(node, (a, b))
    most_switching = most_at_once(list(first.values()))
    worst = max(worst, most)
    worst_switching = max(worst_switching, most_switching)
    ok = sum(1 for b in boots if b[3] == "ok")
    failed = sum(1 for b in boots if b[3] == "failed")
    show = lambda t: "-" if t is None else f"{(t - created) / 1000:.1f}"
    took = "-" if started is None or passed is None else f"{(passed - started) / 1000:.1f}"
    print(f"{name:<10} {len(members):>8} {show(started):>8} {show(passed):>8} {took:>7} {len(boots):>17} "
          f"{ok:>5} {failed:>6} {most:>7} {most_switching:>17}")
print(f"rollout {rid}: {state}, {((ended or end_of_run) - created) / 1000:.1f} s in all")
checks = [
    (state == "succeeded", f"the rollout succeeded ({state})"),
    (worst_switching <= limit,
     f"pacing of switches: at most {worst_switching} machines of a stage were on their first boot of the new "
     f"version at once (limit {limit})"),
    (worst <= limit,
     f"pacing of all new-version boots: at most {worst} boots of the new version by a stage's machines ran at "
     f"once (limit {limit}; includes machines rebooting after they switched)"),
]
for met, what in checks:
    print(("met:    " if met else "MISSED: ") + what)
good = all(met for met, _ in checks)
sys.exit(0 if good else 1)
PY
((storm_rc == 0)) || note "bootstorm exited with $storm_rc (errors: see above)"
exit "$rc"
