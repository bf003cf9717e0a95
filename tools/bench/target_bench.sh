#!/usr/bin/env bash
# Compares `bootherd share` with tgt serving the same scratch file, one server after the other in one run:
#   4 KiB random read, QD 32        (iscsi-perf)
#   128 KiB sequential read, QD 16  (iscsi-perf)
#   4 KiB random write, QD 32       (iscsi_load: Debian's iscsi-perf has no write mode)
# and prints IOPS, MiB/s and server CPU seconds per GiB moved for both, with the bootherd/tgt ratios.
# --write-path direct compares the servers writing with O_DIRECT instead of through the page cache.
# Loopback only; every process and file it creates is removed on exit. Run as root (tgtd needs it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]            (each option also has an environment variable)
  --seconds N        BENCH_SECONDS   seconds per case (default 10)
  --rounds N         BENCH_ROUNDS    repeat both servers N times, alternating their order; medians (default 1)
  --size SIZE        BENCH_SIZE      scratch file size, as truncate(1) takes it (default 1G)
  --dir DIR          BENCH_DIR       where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --bootherd PATH    BOOTHERD        bootherd binary (default: newest of build/release and build)
  --iscsi-load PATH  ISCSI_LOAD      iscsi_load binary (default: newest of build/release and build)
  --servers LIST     BENCH_SERVERS   "bootherd tgt" (default), or just one of them
  --write-path P     BENCH_WRITE_PATH  page-cache (default: both servers as they come) or direct: bootherd
                                     --direct-writes against tgt with bsoflags=direct, write case only (tgt's
                                     direct mode takes reads past the page cache too, so reads would not compare)
                     BOOTHERD_ARGS   extra arguments for \`bootherd share\`
EOF
    exit 2
}

seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-1}
size=${BENCH_SIZE:-1G}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
bootherd=${BOOTHERD:-}
iscsi_load=${ISCSI_LOAD:-}
servers=${BENCH_SERVERS:-bootherd tgt}
write_path=${BENCH_WRITE_PATH:-page-cache}
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        --iscsi-load) iscsi_load=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --write-path) write_path=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "--seconds wants a whole number of seconds (iscsi-perf takes no fractions)"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive whole number"
for s in $servers; do [[ $s == bootherd || $s == tgt ]] || die "unknown server '$s'"; done
[[ $write_path == page-cache || $write_path == direct ]] || die "--write-path is page-cache or direct"

[[ $(id -u) -eq 0 ]] || die "run as root: tgtd needs it"
for tool in iscsi-perf iscsi-readcapacity16 tgtd tgtadm timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (run tools/install-deps.sh)"
done
iscsi_load=$(built_binary tools/bench/iscsi_load "$iscsi_load" "pass --iscsi-load PATH") || exit
if [[ " $servers " == *" bootherd "* ]]; then
    bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH or --servers tgt") || exit
fi

make_scratch "$parent_dir" bench

raise_fd_limit 4096
clk_tck=$(getconf CLK_TCK)
iqn=iqn.2026-11.org.bootherd:bench
disk=$work/disk.img

note "scratch file $disk ($size), filling it with random data"
truncate -s "$size" "$disk"
disk_bytes=$(stat -c %s "$disk")
(( disk_bytes >= 16 * 1048576 && disk_bytes % 1048576 == 0 )) || die "--size must be a whole number of MiB, >= 16M"
dd if=/dev/urandom of="$disk" bs=1M count=$((disk_bytes / 1048576)) conv=notrunc,fsync status=none

# case name | client | op | pattern | bytes per command | queue depth
cases=(
    "4k-randread-qd32|iscsi-perf|read|random|4096|32"
    "128k-seqread-qd16|iscsi-perf|read|seq|131072|16"
    "4k-randwrite-qd32|iscsi_load|write|random|4096|32"
)
tgt_bsoflags=""
if [[ $write_path == direct ]]; then
    cases=("${cases[2]}")
    BOOTHERD_ARGS="${BOOTHERD_ARGS:-} --direct-writes"
    tgt_bsoflags=direct
fi
declare -A result  # "<server>,<case>,iops|mibps|cpu" -> the figures of every round, space-separated

# Runs one case ($3) against the server (pid $server_pid, LUN block size $block_size) at URL $1; records its
# figures under server $2.
run_case() {
    local url=$1 server=$2 name client op pattern bs qd
    IFS='|' read -r name client op pattern bs qd <<<"$3"
    local out iops bytes cpu_before cpu_after limit=$((seconds + 60))
    cpu_before=$(cpu_ticks "$server_pid")
    if [[ $client == iscsi-perf ]]; then
        local blocks_per_io=$((bs / block_size)) flags=()
        [[ $pattern == random ]] && flags+=(-r)
        run_client "$work/client.out" "$limit" iscsi-perf -m "$qd" -b "$blocks_per_io" -t "$seconds" "${flags[@]}" \
            "$url" || die "$server $name: iscsi-perf failed: $(tr '\r' '\n' <"$work/client.out" | tail -3)"
        out=$(tr '\r' '\n' <"$work/client.out")
        iops=$(sed -n 's/^iops average \([0-9]*\) .*/\1/p' <<<"$out" | tail -1)
        [[ -n $iops ]] || die "$server $name: no result from iscsi-perf: $(tail -3 <<<"$out")"
        # iscsi-perf prints only the average rate; the volume moved is that rate over the run time.
        bytes=$((iops * bs * seconds))
    else
        run_client "$work/client.out" "$limit" "$iscsi_load" --url "$url" --op "$op" --pattern "$pattern" \
            --bs "$bs" --qd "$qd" --seconds "$seconds" || die "$server $name: iscsi_load failed: $(<"$work/client.out")"
        out=$(<"$work/client.out")
        iops=$(sed -n 's/^iops=\([0-9]*\) .*/\1/p' <<<"$out")
        bytes=$(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' <<<"$out")
    fi
    cpu_after=$(cpu_ticks "$server_pid")
    kill -0 "$server_pid" 2>/dev/null || die "$server exited during $name"
    local cpu_s mibps cpu_per_gib
    cpu_s=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$clk_tck" 'BEGIN {printf "%.2f", t / hz}')
    mibps=$(awk -v i="$iops" -v b="$bs" 'BEGIN {printf "%.1f", i * b / 1048576}')
    cpu_per_gib=$(awk -v c="$cpu_s" -v b="$bytes" 'BEGIN {if (b > 0) printf "%.2f", c / (b / 1073741824); else print "inf"}')
    result[$server,$name,iops]+="$iops "
    result[$server,$name,mibps]+="$mibps "
    result[$server,$name,cpu]+="$cpu_per_gib "
    echo "result round=$round server=$server case=$name client=$client iops=$iops mibps=$mibps server_cpu_s=$cpu_s" \
        "bytes=$bytes cpu_s_per_gib=$cpu_per_gib"
}

# Each server starts from the same state: the whole file cached and clean. Without the sync, the previous
# server's writes would still be going to disk (writeback) while this server runs, slowing its writes.
warm_cache() {
    sync -- "$disk"
    cat "$disk" >/dev/null
}

# Serves the scratch file with server $1 and runs every case against it.
bench_server() {
    local server=$1 port url
    port=$(pick_port)
    warm_cache
    if [[ $server == bootherd ]]; then
        note "round $round: bootherd share ($bootherd) on 127.0.0.1:$port"
        stop_server=stop_bootherd
        start_bootherd "$bootherd" "$disk" "$port" "$iqn" "$work/bootherd.log"
        url=iscsi://127.0.0.1:$port/$iqn/0
    else
        note "round $round: tgtd on 127.0.0.1:$port"
        stop_server=stop_tgt
        start_tgt "$disk" "$port" "$iqn" "$work/tgtd.log" "$tgt_bsoflags"
        url=iscsi://127.0.0.1:$port/$iqn/1
    fi
    # iscsi-perf counts its transfer size in blocks.
    block_size=$(iscsi-readcapacity16 "$url" | awk -F: '/LOGICAL BLOCK LENGTH IN BYTES/ {print $2 + 0}')
    [[ $block_size =~ ^[1-9][0-9]*$ ]] || die "$server: READ CAPACITY(16) failed"
    local c
    for c in "${cases[@]}"; do
        note "$server: ${c%%|*} for ${seconds}s"
        run_case "$url" "$server" "$c"
    done
    "$stop_server"
    stop_server=""
}

# Later rounds alternate the order, so a change in background load over the run does not favour one server.
read -r -a order <<<"$servers"
for ((round = 1; round <= rounds; round++)); do
    for server in "${order[@]}"; do bench_server "$server"; done
    reversed=()
    for server in "${order[@]}"; do reversed=("$server" "${reversed[@]}"); done
    order=("${reversed[@]}")
done

median() {  # of the space-separated numbers in $1, printed with format $2; nothing for an empty list
    # shellcheck disable=SC2086  # splitting the list is the point
    printf '%s\n' ${1:-} | sort -g | awk -v f="$2" \
        'NF {v[++n] = $1} END {if (n) printf f "\n", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)}'
}

ratio() {  # $1 / $2 with two decimals, or "-" when either is missing
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2fx", a / b}'
}

echo
echo "4 KiB random write uses iscsi_load (libiscsi): Debian's iscsi-perf has no write mode."
echo "MiB/s = IOPS x bytes per command / 2^20; CPU s/GiB = server user+system CPU seconds per GiB moved."
(( rounds == 1 )) || echo "Each figure is the median of $rounds rounds."
[[ $write_path == page-cache ]] || echo "Write path: direct (bootherd --direct-writes, tgt bsoflags=direct)."
goal=()
printf '%-18s | %13s %8s %9s | %9s %8s %9s | %10s %12s\n' case "bootherd IOPS" MiB/s "CPU s/GiB" \
    "tgt IOPS" MiB/s "CPU s/GiB" "IOPS ratio" "CPU/GiB ratio"
for c in "${cases[@]}"; do
    name=${c%%|*}
    declare -A m=()
    for server in bootherd tgt; do
        m[$server,iops]=$(median "${result[$server,$name,iops]:-}" %.0f)
        m[$server,mibps]=$(median "${result[$server,$name,mibps]:-}" %.1f)
        m[$server,cpu]=$(median "${result[$server,$name,cpu]:-}" %.2f)
    done
    printf '%-18s | %13s %8s %9s | %9s %8s %9s | %10s %12s\n' "$name" \
        "${m[bootherd,iops]:--}" "${m[bootherd,mibps]:--}" "${m[bootherd,cpu]:--}" \
        "${m[tgt,iops]:--}" "${m[tgt,mibps]:--}" "${m[tgt,cpu]:--}" \
        "$(ratio "${m[bootherd,iops]}" "${m[tgt,iops]}")" "$(ratio "${m[tgt,cpu]}" "${m[bootherd,cpu]}")"
    if [[ -n ${m[bootherd,iops]} && -n ${m[tgt,iops]} ]]; then
        goal+=("$name $(awk -v a="${m[bootherd,iops]}" -v b="${m[tgt,iops]}" 'BEGIN {print (a >= 1.5 * b ? "met" : "MISSED")}')")
    fi
done
echo "IOPS ratio = bootherd/tgt (higher is better); CPU/GiB ratio = tgt/bootherd (higher: bootherd spends less CPU)."
if ((${#goal[@]})); then
    printf -v verdicts '%s, ' "${goal[@]}"
    echo "goal, bootherd IOPS >= 1.5x tgt: ${verdicts%, }"
fi
