#!/usr/bin/env bash
# Cluster boot storm: N machines (default 256) boot through one `bootherd serve`, then through three serves on
# one PostgreSQL catalog (docs/SCALE-OUT.md), in the same run:
#
#   (0) a private PostgreSQL 15 (tests/with_postgres.sh); a 1 GiB raw golden image whose first --content MiB
#       hold data is imported into it, and N non-persistent machines are enrolled (group without address
#       binding: every machine plays from 127.0.0.1);
#   (A) one serve (server name "solo") on that catalog: every machine fetches its boot script, logs in,
#       replays the trace, logs out, then logs in again as its OS (bootstorm's machine mode, --no-health);
#   (B) three serves on distinct ports of 127.0.0.1 (s1 on A's data directory, s2 and s3 having pulled the
#       version from s1 first); the same machines boot again, all fetching their scripts from s1 and logging in
#       at s1's portal, so that those s1 homes on s2 or s3 are redirected there (fresh disks: non-persistent).
# Prints for A and B: aggregate MiB/s, boot time min/p50/p99/max, CPU seconds during the storm of each serve, of
# PostgreSQL (all its processes) and of the load generator, peak RSS of each serve, logins redirected (server
# logs and client count), homes per server, where a boot's time goes (script, login incl. redirect, trace,
# OS login) and B/A ratios. Exit status 0 when both storms booted every machine without error, 1 otherwise,
# 2 when the run itself failed. Loopback only; every process and file it makes is removed on exit. Run as root.
# A benchmark, not a test: see README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]            (each option also has an environment variable)
  --clients N        STORM_CLIENTS   machines booting at once, in A and in B (default 256)
  --trace FILE       STORM_TRACE     boot trace (default tools/bench/traces/synthetic-64m.trace)
  --qd N             STORM_QD        commands in flight per session (default 4)
  --ramp-up S        STORM_RAMP_UP   seconds over which the machines power on (default 0: all at once)
  --content MIB      STORM_CONTENT   MiB of data at the start of the 1 GiB golden image (default 128)
  --dir DIR          BENCH_DIR       where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --bootherd PATH    BOOTHERD        bootherd binary (default: newest of build/release and build)
  --bootstorm PATH   BOOTSTORM       bootstorm binary (default: newest of build/release and build)
  (STORM_KEEP_LOGS=DIR copies the serves' logs and bootstorm's output there before the scratch goes)
EOF
    exit 2
}

# The private PostgreSQL: this script runs again under tests/with_postgres.sh, which removes it afterwards.
if [[ -z ${CLUSTER_STORM_UNDER_PG:-} ]]; then
    exec "$repo_root/tests/with_postgres.sh" env CLUSTER_STORM_UNDER_PG=1 "$0" "$@"
fi
: "${BOOTHERD_TEST_CATALOG:?tests/with_postgres.sh did not set BOOTHERD_TEST_CATALOG}"
export BOOTHERD_CATALOG=$BOOTHERD_TEST_CATALOG

clients=${STORM_CLIENTS:-256}
trace=${STORM_TRACE:-$repo_root/tools/bench/traces/synthetic-64m.trace}
qd=${STORM_QD:-4}
ramp_up=${STORM_RAMP_UP:-0}
content=${STORM_CONTENT:-128}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
bootherd=${BOOTHERD:-}
bootstorm=${BOOTSTORM:-}
while (($#)); do
    case $1 in
        --clients) clients=$2; shift 2 ;;
        --trace) trace=$2; shift 2 ;;
        --qd) qd=$2; shift 2 ;;
        --ramp-up) ramp_up=$2; shift 2 ;;
        --content) content=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        --bootstorm) bootstorm=$2; shift 2 ;;
        *) usage ;;
    esac
done
for v in clients qd content; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v wants a positive whole number"
done
[[ $ramp_up =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--ramp-up wants seconds"
((content <= 1024)) || die "--content is at most 1024 (MiB of the 1 GiB image)"
((clients <= 65536)) || die "--clients is at most 65536"
[[ -r $trace ]] || die "$trace: cannot read"
[[ $(id -u) -eq 0 ]] || die "run as root"
for tool in timeout psql awk ps; do command -v "$tool" >/dev/null || die "$tool not found"; done
bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH") || exit
bootstorm=$(built_binary tools/bench/bootstorm "$bootstorm" "pass --bootstorm PATH") || exit
raise_fd_limit $((4 * clients + 512))

make_scratch "$parent_dir" cluster-storm
declare -A SPID SLOG ISCSI HTTP_PORT
# The serves still running, stopped on exit before the scratch directory goes (and PostgreSQL after it).
stop_serves() {
    local n
    for n in "${!SPID[@]}"; do stop_process "${SPID[$n]}" 10; done
    SPID=()
    if [[ -n ${STORM_KEEP_LOGS:-} ]]; then
        mkdir -p "$STORM_KEEP_LOGS"
        cp "$work"/*.log "$work"/storm-*.out "$STORM_KEEP_LOGS"/ 2>/dev/null || true
    fi
}
stop_server=stop_serves

note "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; scratch $work"
psql_q() { psql -X -A -t -q "$BOOTHERD_TEST_CATALOG" -c "$1"; }
tick=$(getconf CLK_TCK)
pg_dir=$(psql_q "SHOW data_directory")
postmaster=$(head -n 1 "$pg_dir/postmaster.pid")

# --- (0) the golden image and the machines ----------------------------------------------------------------------
golden=$work/golden.img
truncate -s 1G "$golden"
dd if=/dev/urandom of="$golden" bs=1M count="$content" conv=notrunc status=none
t0=$EPOCHREALTIME
"$bootherd" image import golden "$golden" --data "$work/d1" >"$work/import.log" 2>&1 ||
    { cat "$work/import.log" >&2; die "bootherd image import failed"; }
import_seconds=$(elapsed_since "$t0")
rm -f "$golden"
# The machines play from 127.0.0.1 (their redirected logins cannot come from an address of their own), so their
# group has no address binding (docs/SECURITY.md) and bootherd refuses their health reports: --no-health below.
"$bootherd" group add storm --no-bind-address --data "$work/d1" >"$work/enrol.log" 2>&1 ||
    { cat "$work/enrol.log" >&2; die "bootherd group add failed"; }
make_nodes_csv "$clients" golden storm >"$work/nodes.csv"
t0=$EPOCHREALTIME
"$bootherd" node import "$work/nodes.csv" --data "$work/d1" >>"$work/enrol.log" 2>&1 ||
    { cat "$work/enrol.log" >&2; die "bootherd node import failed"; }
enrol_seconds=$(elapsed_since "$t0")
awk -F, 'NR > 1 { print $2, "127.0.0.1" }' "$work/nodes.csv" >"$work/machines"
note "imported the golden image in $import_seconds s; enrolled $clients machines in $enrol_seconds s"

# --- servers ----------------------------------------------------------------------------------------------------
# Starts serve $1 (its server name) on data directory $2, on two free ports of 127.0.0.1. Every machine plays
# from 127.0.0.1, so the per-address connection caps (16 iSCSI, 64 HTTP by default) are lifted to what all of
# them hold at once.
start_serve() {
    local name=$1 data=$2
    ISCSI[$name]=$(pick_port)
    HTTP_PORT[$name]=$(pick_port)
    SLOG[$name]=$work/serve-$name.log
    "$bootherd" serve --data "$data" --listen "127.0.0.1:${ISCSI[$name]}" \
        --listen-http "127.0.0.1:${HTTP_PORT[$name]}" --server-name "$name" \
        --server-url "http://127.0.0.1:${HTTP_PORT[$name]}" --heartbeat-seconds 1 --server-timeout-seconds 4 \
        --max-connections-per-address $((2 * clients + 64)) --http-max-connections $((clients + 512)) \
        --http-max-connections-per-address $((clients + 64)) >"${SLOG[$name]}" 2>&1 &
    SPID[$name]=$!
}
# Servers (SQL list of names) that hold a verified copy of the golden version, counted.
copies() {
    psql_q "SELECT count(*) FROM server_versions c JOIN servers s ON s.id = c.server_id WHERE s.name IN ($1)"
}
# Waits until the $1 servers named in $2 (SQL list) hold a verified copy and serve iSCSI.
wait_copies() {
    local want=$1 names=$2 i n
    for ((i = 0; i < 600; i++)); do
        (($(copies "$names") == want)) && break
        for n in "${!SPID[@]}"; do
            kill -0 "${SPID[$n]}" 2>/dev/null || { tail -n 20 "${SLOG[$n]}" >&2; die "serve $n exited"; }
        done
        sleep 0.2
    done
    (($(copies "$names") == want)) || { tail -n 20 "${SLOG[@]}" >&2; die "not all of $names hold the version"; }
    for n in "${!SPID[@]}"; do
        wait_for_log "${SLOG[$n]}" "serving .* on 127\.0\.0\.1:${ISCSI[$n]}" "${SPID[$n]}" 60 ||
            { tail -n 20 "${SLOG[$n]}" >&2; die "serve $n does not serve iSCSI"; }
    done
}

# CPU ticks of PostgreSQL: the postmaster (with the backends it has reaped) and the processes running under it.
pg_ticks() {
    local total child
    total=$(cpu_ticks "$postmaster")
    for child in $(ps -o pid= --ppid "$postmaster"); do
        total=$((total + $(cpu_ticks "$child" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
seconds_of() { awk -v t="$1" -v hz="$tick" 'BEGIN { printf "%.1f", t / hz }'; }
homes() {
    psql_q "SELECT s.name || ':' || count(*) FROM nodes n JOIN servers s ON s.id = n.home_server_id
            GROUP BY s.name ORDER BY s.name" | tr '\n' ' '
}

# --- the storms -------------------------------------------------------------------------------------------------
declare -A result phases cpu_line rss_line redirect_line home_line cpu_total wall
# Storm $1 (A or B) through the serve named $2 (scripts and logins), the serves of the run being $3 (a list).
run_storm() {
    local run=$1 entry=$2 serves=$3 n rc=0 pg_before pg_after all=0 t ticks
    declare -A before
    for n in $serves; do before[$n]=$(cpu_ticks "${SPID[$n]}"); done
    pg_before=$(pg_ticks)
    note "$run: $clients machines x $(basename "$trace") through $entry (of: $serves), queue depth $qd"
    t0=$EPOCHREALTIME
    run_client "$work/storm-$run.out" 3600 "$bootstorm" --machines-file "$work/machines" \
        --http "127.0.0.1:${HTTP_PORT[$entry]}" --clients "$clients" --trace "$trace" --queue-depth "$qd" \
        --ramp-up "$ramp_up" --boots 1 --reboot-delay 0 --no-health --timeout 3000 || rc=$?
    wall[$run]=$(elapsed_since "$t0")
    cat "$work/storm-$run.out"
    ((rc <= 1)) || die "bootstorm failed in $run (status $rc)"
    result[$run]=$(grep '^result ' "$work/storm-$run.out") || die "bootstorm printed no result in $run"
    phases[$run]=$(grep '^phases ' "$work/storm-$run.out") || die "bootstorm printed no phases in $run"
    cpu_line[$run]="" rss_line[$run]="" redirect_line[$run]=""
    for n in $serves; do
        t=$(cpu_ticks "${SPID[$n]}") || die "serve $n died during $run"
        t=$((t - before[$n]))
        all=$((all + t))
        cpu_line[$run]+="$n $(seconds_of "$t")  "
        rss_line[$run]+="$n $(awk -v k="$(hwm_kib "${SPID[$n]}")" 'BEGIN { printf "%.0f", k / 1024 }')  "
        redirect_line[$run]+="$n $(grep -c "iSCSI login redirected" "${SLOG[$n]}" || true)  "
    done
    pg_after=$(pg_ticks)
    ticks=$((pg_after - pg_before))
    all=$((all + ticks))
    cpu_line[$run]+="postgres $(seconds_of "$ticks")  "
    local client_cpu
    client_cpu=$(sed -n 's/.* cpu=\([^ ]*\).*/\1/p' <<<"${phases[$run]}")
    cpu_line[$run]+="bootstorm $client_cpu"
    cpu_total[$run]=$(awk -v t="$all" -v hz="$tick" -v c="$client_cpu" 'BEGIN { printf "%.1f", t / hz + c }')
    home_line[$run]=$(homes)
}

# (A) one serve.
start_serve solo "$work/d1"
wait_copies 1 "'solo'"
run_storm A solo solo
stop_process "${SPID[solo]}" 10
unset 'SPID[solo]'
solo_stopped=$EPOCHREALTIME

# (B) three serves; s1 takes over A's data directory, s2 and s3 pull the version from it.
start_serve s1 "$work/d1"
wait_copies 1 "'s1'"
start_serve s2 "$work/d2"
start_serve s3 "$work/d3"
wait_copies 3 "'s1','s2','s3'"
for n in s2 s3; do # the copy is recorded just before the line is logged
    wait_for_log "${SLOG[$n]}" "pulled version" "${SPID[$n]}" 10 || die "$n holds the version without having pulled it"
done
# solo must count as dead (no heartbeat for --server-timeout-seconds) before machines are placed again.
sleep "$(awk -v s="$(elapsed_since "$solo_stopped")" 'BEGIN { w = 5 - s; print (w > 0 ? w : 0) }')"
run_storm B s1 "s1 s2 s3"
stop_serves

# --- report -----------------------------------------------------------------------------------------------------
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
mibps() { awk -v b="$(field "${result[$1]}" bytes)" -v s="$(field "${result[$1]}" seconds)" \
    'BEGIN { if (s > 0) printf "%.1f", b / s / 1048576; else print 0 }'; }
echo
echo "Cluster boot storm: $clients machines x $(basename "$trace") (queue depth $qd, ramp-up $ramp_up s), A: 1 serve," \
    "B: 3 serves, scripts and logins through s1; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-3s %6s %6s %7s %9s %7s %7s %7s %7s\n' run boots errors "wall s" "MiB/s" min p50 p99 max
for run in A B; do
    r=${result[$run]}
    printf '%-3s %6s %6s %7s %9s %7s %7s %7s %7s\n' "$run" "$(field "$r" boots)" "$(field "$r" errors)" \
        "$(field "$r" seconds | awk '{ printf "%.1f", $1 }')" "$(mibps "$run")" "$(field "$r" min)" \
        "$(field "$r" p50)" "$(field "$r" p99)" "$(field "$r" max)"
done
echo "where a boot's time goes, mean (p50) s: script fetch | firmware login, redirect included | trace + logout | OS login + logout"
for run in A B; do
    p=${phases[$run]}
    printf '  %s: %s (%s) | %s (%s; p99 %s) | %s (%s) | %s (%s)\n' "$run" "$(field "$p" script_mean)" \
        "$(field "$p" script_p50)" "$(field "$p" login_mean)" "$(field "$p" login_p50)" "$(field "$p" login_p99)" \
        "$(field "$p" trace_mean)" "$(field "$p" trace_p50)" "$(field "$p" os_mean)" "$(field "$p" os_p50)"
done
for run in A B; do
    echo "CPU s during $run: ${cpu_line[$run]}  (total ${cpu_total[$run]} of $(awk -v w="${wall[$run]}" -v c="$(nproc)" \
        'BEGIN { printf "%.1f", w * c }') available)"
done
for run in A B; do echo "peak RSS MiB $run: ${rss_line[$run]}"; done
for run in A B; do
    echo "logins redirected $run (server logs): ${redirect_line[$run]} client count $(field "${phases[$run]}" redirects)"
done
for run in A B; do echo "homes after $run: ${home_line[$run]}"; done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "-" }'; }
echo "B/A: throughput $(ratio "$(mibps B)" "$(mibps A)"), p50 boot $(ratio "$(field "${result[B]}" p50)" \
    "$(field "${result[A]}" p50)"), p99 boot $(ratio "$(field "${result[B]}" p99)" "$(field "${result[A]}" p99)"), CPU total $(ratio "${cpu_total[B]}" "${cpu_total[A]}")"
echo "setup: golden image import $import_seconds s, enrolment of $clients machines $enrol_seconds s"
for run in A B; do
    (($(field "${result[$run]}" errors) == 0 && $(field "${result[$run]}" boots) == clients)) || exit 1
done
exit 0
