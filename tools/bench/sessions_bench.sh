#!/usr/bin/env bash
# Holds many iSCSI sessions (default 512) open against one `bootherd share` at once, runs I/O on every one of them
# (random 4 KiB reads, then random 4 KiB writes to the benchmark's own scratch file), and prints errors, IOPS,
# established connections seen at the server and the server's memory. Exits non-zero on any error.
# Loopback only; every process and file it creates is removed on exit. Run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]            (each option also has an environment variable)
  --sessions N       BENCH_SESSIONS  sessions held at once (default 512)
  --qd N             BENCH_QD        commands in flight per session (default 1)
  --seconds N        BENCH_SECONDS   seconds of I/O per operation (default 10)
  --size SIZE        BENCH_SIZE      scratch file size (default 256M)
  --dir DIR          BENCH_DIR       where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --server NAME      BENCH_SERVER    bootherd (default) or tgt, to check the script or compare
  --bootherd PATH    BOOTHERD        bootherd binary (default: newest of build/release and build)
  --iscsi-load PATH  ISCSI_LOAD      iscsi_load binary (default: newest of build/release and build)
                     BOOTHERD_ARGS   extra arguments for \`bootherd share\`
EOF
    exit 2
}

sessions=${BENCH_SESSIONS:-512}
qd=${BENCH_QD:-1}
seconds=${BENCH_SECONDS:-10}
size=${BENCH_SIZE:-256M}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
server=${BENCH_SERVER:-bootherd}
bootherd=${BOOTHERD:-}
iscsi_load=${ISCSI_LOAD:-}
while (($#)); do
    case $1 in
        --sessions) sessions=$2; shift 2 ;;
        --qd) qd=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --server) server=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        --iscsi-load) iscsi_load=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ $sessions =~ ^[1-9][0-9]*$ && $qd =~ ^[1-9][0-9]*$ && $seconds =~ ^[1-9][0-9]*$ ]] ||
    die "--sessions, --qd and --seconds want positive whole numbers"
[[ $server == bootherd || $server == tgt ]] || die "--server is bootherd or tgt"

[[ $(id -u) -eq 0 ]] || die "run as root"
command -v timeout >/dev/null || die "timeout (coreutils) not found"
iscsi_load=$(built_binary tools/bench/iscsi_load "$iscsi_load" "pass --iscsi-load PATH") || exit
if [[ $server == bootherd ]]; then
    bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH") || exit
else
    for tool in tgtd tgtadm; do command -v "$tool" >/dev/null || die "$tool not found (tools/install-deps.sh)"; done
fi

# One socket per session on each side, plus the server's files and listeners; both processes inherit this.
raise_fd_limit $((2 * sessions + 256))
(( $(ulimit -Sn) >= sessions + 64 )) || die "descriptor limit $(ulimit -Sn) is too low for $sessions sessions"

make_scratch "$parent_dir" sessions 1

iqn=iqn.2026-11.org.bootherd:sessions
disk=$work/disk.img
truncate -s "$size" "$disk"
dd if=/dev/urandom of="$disk" bs=1M count=$(($(stat -c %s "$disk") / 1048576)) conv=notrunc status=none

port=$(pick_port)
if [[ $server == bootherd ]]; then
    stop_server=stop_bootherd
    start_bootherd "$bootherd" "$disk" "$port" "$iqn" "$work/server.log"
    url=iscsi://127.0.0.1:$port/$iqn/0
else
    stop_server=stop_tgt
    start_tgt "$disk" "$port" "$iqn" "$work/server.log"
    url=iscsi://127.0.0.1:$port/$iqn/1
fi
note "$server on 127.0.0.1:$port (pid $server_pid); descriptor limit $(ulimit -Sn)"
rss_idle=$(rss_kib "$server_pid")

# Counts the server's established connections twice a second and keeps the highest count seen.
sample_connections() {
    local most=0 now
    while sleep 0.5; do
        now=$(established_connections "$port")
        if (( now > most )); then
            most=$now
            echo "$most" >"$work/connections"
        fi
    done
}
echo 0 >"$work/connections"
if command -v ss >/dev/null; then
    sample_connections &
    helper_pid=$!
fi

status=0
for op in read write; do
    note "$sessions sessions, QD $qd each, random 4 KiB ${op}s for ${seconds}s"
    run_client "$work/client.out" $((seconds + 180)) "$iscsi_load" --url "$url" --op "$op" --pattern random \
        --bs 4096 --qd "$qd" --seconds "$seconds" --sessions "$sessions" --login-timeout 120 || status=1
    out=$(<"$work/client.out")
    echo "$out" | grep -v '^iops=' >&2 || true
    line=$(grep '^iops=' <<<"$out" || true)
    [[ -n $line ]] || line="iops=0 errors=unknown sessions=0 (iscsi_load did not finish)"
    echo "$op: $line"
    rss_now=$(rss_kib "$server_pid" 2>/dev/null) || { echo "$server exited during the run" >&2; exit 1; }
    echo "$op: server_rss_kib=$rss_now"
done

stop_helper
peak=$(hwm_kib "$server_pid")
echo "server=$server sessions=$sessions qd=$qd max_established_connections=$(<"$work/connections")" \
    "server_rss_idle_kib=$rss_idle server_rss_peak_kib=$peak"
# The server's own view: warnings and errors it logged (bootherd's log levels; tgtd logs differently).
logged_problems=$(grep -c -E ' (warn|error) ' "$work/server.log" || true)
echo "server_log_warnings_and_errors=$logged_problems"
grep -E ' (warn|error) ' "$work/server.log" | head -5 >&2 || true
if (( status != 0 )); then
    echo "FAILED: errors during the run (see above)"
else
    echo "OK: $sessions concurrent sessions, no errors"
fi
exit "$status"
