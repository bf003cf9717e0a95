#!/usr/bin/env bash
# Boot storm: N diskless clients (default 256) boot at once from one golden image, bootherd against tgt, in one run.
#
#   (0) a 1 GiB raw golden image whose first --content MiB hold data (the rest is unallocated, like free space)
#       is imported into a fresh bootherd data directory, and --nodes machines (default 1000) are enrolled from
#       one CSV file; the enrolment is timed (requirement: under 2 s);
#   (a) `bootherd serve` on that catalog: client i logs in to node i's target with the node's initiator name and
#       CHAP secret, replays the trace and logs out (bootstorm, all clients in one process);
#   (b) tgt with N targets, each LUN its own `cp --reflink=auto` copy of the raw image (real copies on ext4),
#       the same trace and clients;
#   (c) a fresh `bootherd serve` holding --idle-sessions sessions (default 1000, one per node) open and idle,
#       NOP-Outs only; RSS growth per session;
#   (d) the disk space the N node disks plus the golden image take after the run, against N copies.
# Prints per server: boot time min/p50/p90/p99/max, aggregate MiB/s, the server's CPU seconds and peak RSS, and
# bootherd/tgt ratios; then checks the targets (no error, p99 <= 2 x p50, bootherd peak RSS < 512 MiB,
# throughput >= 1.5 x tgt, enrolment < 2 s). Exit status: 0 all met, 1 a target missed, 2 the run failed.
# Loopback only; every process and file it creates is removed on exit. Run as root. See README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]            (each option also has an environment variable)
  --clients N        STORM_CLIENTS   clients booting at once (default 256)
  --nodes N          STORM_NODES     machines enrolled from CSV (default 1000; at least --clients)
  --idle-sessions N  STORM_IDLE      sessions held open idle in (c) (default 1000; 0 skips (c); at most --nodes)
  --hold S           STORM_HOLD      seconds the idle sessions are held (default 10)
  --idle-ramp-up S   STORM_IDLE_RAMP_UP  seconds over which the idle sessions log in (default 30)
  --trace FILE       STORM_TRACE     boot trace (default tools/bench/traces/synthetic-64m.trace)
  --qd N             STORM_QD        commands in flight per client (default 4)
  --ramp-up S        STORM_RAMP_UP   seconds over which the clients power on (default 0: all at once)
  --content MIB      STORM_CONTENT   MiB of data at the start of the 1 GiB golden image (default 128)
  --servers LIST     STORM_SERVERS   default "bootherd tgt"
  --perf S           STORM_PERF      perf record -g on bootherd for S seconds of the storm (default 0: off)
  --dir DIR          BENCH_DIR       where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --bootherd PATH    BOOTHERD        bootherd binary (default: newest of build/release and build)
  --bootstorm PATH   BOOTSTORM       bootstorm binary (default: newest of build/release and build)
EOF
    exit 2
}

clients=${STORM_CLIENTS:-256}
nodes=${STORM_NODES:-1000}
idle=${STORM_IDLE:-1000}
hold=${STORM_HOLD:-10}
idle_ramp_up=${STORM_IDLE_RAMP_UP:-30}
trace=${STORM_TRACE:-$repo_root/tools/bench/traces/synthetic-64m.trace}
qd=${STORM_QD:-4}
ramp_up=${STORM_RAMP_UP:-0}
content=${STORM_CONTENT:-128}
servers=${STORM_SERVERS:-bootherd tgt}
perf_seconds=${STORM_PERF:-0}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
bootherd=${BOOTHERD:-}
bootstorm=${BOOTSTORM:-}
while (($#)); do
    case $1 in
        --clients) clients=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --idle-sessions) idle=$2; shift 2 ;;
        --hold) hold=$2; shift 2 ;;
        --idle-ramp-up) idle_ramp_up=$2; shift 2 ;;
        --trace) trace=$2; shift 2 ;;
        --qd) qd=$2; shift 2 ;;
        --ramp-up) ramp_up=$2; shift 2 ;;
        --content) content=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --perf) perf_seconds=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        --bootstorm) bootstorm=$2; shift 2 ;;
        *) usage ;;
    esac
done
for v in clients nodes qd content hold; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v wants a positive whole number"
done
[[ $idle =~ ^[0-9]+$ && $perf_seconds =~ ^[0-9]+$ ]] || die "--idle-sessions and --perf want whole numbers"
[[ $ramp_up =~ ^[0-9]+(\.[0-9]+)?$ && $idle_ramp_up =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--ramp-up wants seconds"
((nodes >= clients && nodes >= idle)) || die "--nodes must be at least --clients and --idle-sessions"
((content <= 1024)) || die "--content is at most 1024 (MiB of the 1 GiB image)"
[[ -r $trace ]] || die "$trace: cannot read"
for s in $servers; do [[ $s == bootherd || $s == tgt ]] || die "--servers lists bootherd and/or tgt"; done

[[ $(id -u) -eq 0 ]] || die "run as root"
for tool in timeout sqlite3 awk; do command -v "$tool" >/dev/null || die "$tool not found"; done
bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH") || exit
bootstorm=$(built_binary tools/bench/bootstorm "$bootstorm" "pass --bootstorm PATH") || exit
if [[ " $servers " == *" tgt "* ]]; then
    for tool in tgtd tgtadm; do command -v "$tool" >/dev/null || die "$tool not found (tools/install-deps.sh)"; done
fi
((perf_seconds == 0)) || command -v perf >/dev/null || die "perf not found"

most_sessions=$((clients > idle ? clients : idle))
raise_fd_limit $((2 * most_sessions + 512))
(($(ulimit -Sn) >= most_sessions + 64)) || die "descriptor limit $(ulimit -Sn) is too low"

make_scratch "$parent_dir" storm 5 # the helper process is perf, which writes its data on SIGTERM

note "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; scratch $work"

# --- (0) the golden image and the catalog ---------------------------------------------------------------------
golden=$work/golden.img
truncate -s 1G "$golden"
dd if=/dev/urandom of="$golden" bs=1M count="$content" conv=notrunc status=none
data=$work/bootherd-data
t0=$EPOCHREALTIME
"$bootherd" image import golden "$golden" --data "$data" >"$work/import.log" 2>&1 ||
    { cat "$work/import.log" >&2; die "bootherd image import failed"; }
import_seconds=$(elapsed_since "$t0")
csv=$work/nodes.csv
# The clients log in without fetching a boot script, from 127.0.0.1: their nodes are not bound to an address
# (docs/SECURITY.md), so CHAP alone admits them.
"$bootherd" group add storm --no-bind-address --data "$data" >"$work/enrol.log" 2>&1 ||
    { cat "$work/enrol.log" >&2; die "bootherd group add failed"; }
make_nodes_csv "$nodes" golden storm >"$csv"
t0=$EPOCHREALTIME
"$bootherd" node import "$csv" --data "$data" >"$work/enrol.log" 2>&1 ||
    { cat "$work/enrol.log" >&2; die "bootherd node import failed"; }
enrol_seconds=$(elapsed_since "$t0")
note "imported the 1 GiB golden image in $import_seconds s; enrolled $nodes nodes from CSV in $enrol_seconds s"

# One line per node, in enrolment order: its target, the initiator name it must use, LUN 0, CHAP user and secret.
sqlite3 -readonly -separator ' ' "$data/catalog.db" \
    "SELECT iqn, iqn || ':initiator', 0, chap_user, chap_secret FROM nodes ORDER BY id" >"$work/bootherd.clients"
(($(wc -l <"$work/bootherd.clients") == nodes)) || die "the catalog does not list $nodes nodes"

declare -A result cpu peak
run_storm() { # $1 server name, $2 pid, $3 clients file, $4 portal port
    local name=$1 pid=$2 list=$3 port=$4 before after rc=0
    before=$(cpu_ticks "$pid")
    if ((perf_seconds > 0)) && [[ $name == bootherd ]]; then
        perf record -g -p "$pid" -o "$work/perf.data" -- sleep "$perf_seconds" >"$work/perf.log" 2>&1 &
        helper_pid=$!
    fi
    note "$name: $clients clients x $(basename "$trace"), queue depth $qd, ramp-up $ramp_up s"
    run_client "$work/storm-$name.out" 3600 "$bootstorm" --portal "127.0.0.1:$port" --clients-file "$list" \
        --clients "$clients" --trace "$trace" --queue-depth "$qd" --ramp-up "$ramp_up" --timeout 3000 || rc=$?
    after=$(cpu_ticks "$pid") || die "$name died during the storm"
    cat "$work/storm-$name.out"
    result[$name]=$(grep '^result ' "$work/storm-$name.out" || echo "result errors=failed rc=$rc")
    cpu[$name]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
    peak[$name]=$(hwm_kib "$pid")
    if [[ -n $helper_pid ]]; then
        wait "$helper_pid" || true
        helper_pid=""
    fi
    ((rc == 0)) || note "$name: bootstorm exited with $rc"
}

# --- (a) bootherd ---------------------------------------------------------------------------------------------
if [[ " $servers " == *" bootherd "* ]]; then
    cat "$data"/images/*/* >/dev/null 2>&1 || true # the golden image starts in the page cache, as tgt's copies do
    port=$(pick_port)
    start_bootherd_serve "$bootherd" "$data" "$port" "$work/serve.log"
    stop_server=stop_bootherd
    run_storm bootherd "$server_pid" "$work/bootherd.clients" "$port"
    stop_bootherd
    stop_server=""
    if [[ -f $work/perf.data ]]; then
        note "perf: where bootherd spent its CPU during the storm (children included)"
        perf report -i "$work/perf.data" --stdio --no-demangle --percent-limit 1.5 --sort symbol 2>/dev/null |
            grep -v '^$' | head -60 | c++filt || true
    fi
fi

# --- (c) idle sessions on bootherd ----------------------------------------------------------------------------
idle_result=""
if ((idle > 0)) && [[ " $servers " == *" bootherd "* ]]; then
    port=$(pick_port)
    start_bootherd_serve "$bootherd" "$data" "$port" "$work/serve-idle.log"
    stop_server=stop_bootherd
    rss_before=$(rss_kib "$server_pid")
    note "bootherd: $idle idle sessions logging in over $idle_ramp_up s, held for $hold s (VmRSS before: $rss_before KiB)"
    : >"$work/idle.out"
    "$bootstorm" --portal "127.0.0.1:$port" --clients-file "$work/bootherd.clients" --clients "$idle" \
        --hold "$hold" --ramp-up "$idle_ramp_up" --timeout $((hold + 600)) >"$work/idle.out" 2>&1 &
    client_pid=$!
    rss_held=""
    if wait_for_log "$work/idle.out" '^holding ' "$client_pid" 600; then
        sleep $((hold / 2))
        rss_held=$(rss_kib "$server_pid")
        connections=$(established_connections "$port")
    fi
    idle_rc=0
    wait "$client_pid" || idle_rc=$?
    client_pid=""
    cat "$work/idle.out"
    idle_errors=$(sed -n 's/^result .*errors=\([0-9]*\).*/\1/p' "$work/idle.out")
    if [[ -n $rss_held && $idle_rc -eq 0 ]]; then
        idle_result=$(awk -v n="$idle" -v a="$rss_before" -v b="$rss_held" -v c="$connections" -v e="$idle_errors" \
            -v r="$idle_ramp_up" 'BEGIN { printf "%d sessions (logging in over %s s) held (%d established at the server), errors %s; VmRSS %.1f -> %.1f MiB, %.1f KiB per session", n, r, c, e, a / 1024, b / 1024, (b - a) / n }')
    else
        idle_result="FAILED (bootstorm exit $idle_rc, errors ${idle_errors:-?})"
    fi
    peak[bootherd-idle]=$(hwm_kib "$server_pid")
    stop_bootherd
    stop_server=""
fi

# --- (b) tgt on N copies --------------------------------------------------------------------------------------
copies=$work/tgt
if [[ " $servers " == *" tgt "* ]]; then
    mkdir -p "$copies"
    t0=$EPOCHREALTIME
    for ((i = 0; i < clients; i++)); do cp --reflink=auto --sparse=always "$golden" "$copies/node$i.img"; done
    sync -f "$copies" # tgt's storm must not compete with the writeback of its own copies
    note "tgt: $clients copies made in $(elapsed_since "$t0") s"
    awk -v n="$clients" '{ print "iqn.2026-11.org.bootherd:storm.tgt" NR - 1, $2, 1, $4, $5 } NR == n { exit }' \
        "$work/bootherd.clients" >"$work/tgt.clients"
    port=$(pick_port)
    start_tgt_targets "$port" "$work/tgt.clients" "$copies" "$work/tgtd.log"
    stop_server=stop_tgt_targets
    run_storm tgt "$server_pid" "$work/tgt.clients" "$port"
    stop_tgt_targets
    stop_server=""
fi

# --- (d) storage ------------------------------------------------------------------------------------------------
# The node disks of the clients that booted (by catalog path), plus every file of the image store (the golden
# versions); allocated blocks, so sparse regions cost nothing.
node_bytes=$(sqlite3 -readonly "$data/catalog.db" "SELECT disk_path FROM nodes ORDER BY id LIMIT $clients" |
    (cd "$data" && xargs stat -c '%b %B' | awk '{ s += $1 * $2 } END { print s + 0 }'))
base_bytes=$(find "$data/images" -type f -exec stat -c '%b %B' {} + | awk '{ s += $1 * $2 } END { print s + 0 }')
# tgt's copies as made (cp falls back to a real copy where the filesystem cannot reflink; the holes stay holes).
if [[ -d $copies ]]; then
    copy_bytes=$(find "$copies" -type f -exec stat -c '%b %B' {} + | awk -v n="$clients" '{ s += $1 * $2 } END { print s / n }')
else
    copy_bytes=$(stat -c '%b %B' "$golden" | awk '{ print $1 * $2 }')
fi

# --- report ---------------------------------------------------------------------------------------------------
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" ${result[$1]:-}"; }
echo
echo "Boot storm: $clients clients x $(basename "$trace") (queue depth $qd, ramp-up $ramp_up s), $(nproc) cores," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %7s %7s %7s %7s %7s %6s %9s %8s %10s\n' server min p50 p90 p99 max errors "MiB/s" "CPU s" "peak MiB"
for s in $servers; do
    printf '%-9s %7s %7s %7s %7s %7s %6s %9s %8s %10s\n' "$s" "$(field "$s" min)" "$(field "$s" p50)" \
        "$(field "$s" p90)" "$(field "$s" p99)" "$(field "$s" max)" "$(field "$s" errors)" "$(field "$s" mibps)" \
        "${cpu[$s]:-}" "$(awk -v k="${peak[$s]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "-" }'; }
if [[ -n ${result[bootherd]:-} && -n ${result[tgt]:-} ]]; then
    echo "bootherd/tgt: throughput $(ratio "$(field bootherd mibps)" "$(field tgt mibps)")," \
        "p50 boot time $(ratio "$(field bootherd p50)" "$(field tgt p50)")," \
        "CPU s $(ratio "${cpu[bootherd]}" "${cpu[tgt]}"), peak RSS $(ratio "${peak[bootherd]}" "${peak[tgt]}")"
fi
echo "enrolment: $nodes nodes from CSV in $enrol_seconds s (golden image import $import_seconds s)"
[[ -z $idle_result ]] || echo "idle: $idle_result"
awk -v n="$clients" -v nd="$node_bytes" -v b="$base_bytes" -v c="$copy_bytes" 'BEGIN {
    used = nd + b; full = n * c; nominal = n * 1073741824
    printf "storage: %d node disks %.1f MiB + golden image %.1f MiB = %.1f MiB; %d copies %.1f MiB allocated (%.1f%% saved), %.0f MiB nominal (%.1f%% saved)\n",
        n, nd / 1048576, b / 1048576, used / 1048576, n, full / 1048576, 100 * (1 - used / full), nominal / 1048576,
        100 * (1 - used / nominal) }'

# --- targets --------------------------------------------------------------------------------------------------
missed=0
check() { # $1 description, $2 awk condition on a b
    if awk -v a="$3" -v b="${4:-0}" "BEGIN { exit !($2) }"; then echo "met:    $1"; else echo "MISSED: $1"; missed=1; fi
}
if [[ -n ${result[bootherd]:-} ]]; then
    check "bootherd: no error ($(field bootherd errors) errors, $(field bootherd ok)/$clients booted)" \
        'a == 0 && b == '"$clients" "$(field bootherd errors)" "$(field bootherd ok)"
    check "bootherd: p99 <= 2 x p50 ($(field bootherd p99) s vs $(field bootherd p50) s)" 'a <= 2 * b' \
        "$(field bootherd p99)" "$(field bootherd p50)"
    check "bootherd: peak RSS < 512 MiB ($((peak[bootherd] / 1024)) MiB)" 'a < 512 * 1024' "${peak[bootherd]}"
fi
if [[ -n ${result[bootherd]:-} && -n ${result[tgt]:-} ]]; then
    check "bootherd throughput >= 1.5 x tgt's ($(ratio "$(field bootherd mibps)" "$(field tgt mibps)"))" \
        'a >= 1.5 * b' "$(field bootherd mibps)" "$(field tgt mibps)"
fi
[[ -z $idle_result ]] || check "idle: $idle sessions held with no error" 'a == 0 && b == 0' \
    "${idle_errors:-1}" "${idle_rc:-1}"
check "enrolment of $nodes nodes < 2 s ($enrol_seconds s)" 'a < 2' "$enrol_seconds"
exit "$missed"
