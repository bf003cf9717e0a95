#!/usr/bin/env bash
# The web API under load next to the iSCSI data path, in one `bootherd serve` process on loopback:
#   1. iSCSI 4 KiB random reads, QD 32 (iscsi-perf) on a node's disk, alone;
#   2. wrk on GET /api/v1/nodes (1 000 nodes enrolled, 100 connections, API token), alone;
#   3. both at once, to show what the web load costs the iSCSI figure.
# Prints requests/s and p99 latency of the API, and the iSCSI IOPS with and without the API load.
# Needs wrk, iscsi-perf (libiscsi-bin), curl and python3; no root. Everything it creates is removed on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]
  --seconds N        BENCH_SECONDS   seconds per measurement (default 10)
  --nodes N          BENCH_NODES     nodes enrolled (default 1000)
  --connections N    BENCH_CONNS     wrk connections (default 100)
  --size SIZE        BENCH_SIZE      golden image size, as truncate(1) takes it (default 256M)
  --dir DIR          BENCH_DIR       where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --bootherd PATH    BOOTHERD        bootherd binary (default: newest of build/release and build)
EOF
    exit 2
}

seconds=${BENCH_SECONDS:-10}
nodes=${BENCH_NODES:-1000}
connections=${BENCH_CONNS:-100}
size=${BENCH_SIZE:-256M}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
bootherd=${BOOTHERD:-}
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "--seconds wants a whole number"
[[ $nodes =~ ^[1-9][0-9]*$ ]] || die "--nodes wants a positive number"
for tool in wrk iscsi-perf curl python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (tools/install-deps.sh installs it)"
done
bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH") || exit
raise_fd_limit 4096

make_scratch "$parent_dir" web-bench
stop_server=stop_bootherd

note "image ($size) and $nodes nodes in $work"
data=$work/data
truncate -s "$size" "$work/golden.raw"
# Real data in the first 64 MiB (random reads hit it), zeros after.
dd if=/dev/urandom of="$work/golden.raw" bs=1M count=64 conv=notrunc status=none
"$bootherd" image import golden "$work/golden.raw" --data "$data" >/dev/null
python3 - "$nodes" >"$work/nodes.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("name,mac,image")
for i in range(n):
    print("pc-%04d,52:54:%02x:%02x:%02x:%02x,golden" % (i, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255))
PY
"$bootherd" node import "$work/nodes.csv" --data "$data" >/dev/null

iscsi_port=$(pick_port)
http_port=$(pick_port)
"$bootherd" serve --data "$data" --listen "127.0.0.1:$iscsi_port" --listen-http "127.0.0.1:$http_port" \
    >"$work/serve.log" 2>&1 &
server_pid=$!
wait_for_log "$work/serve.log" "web on 127\.0\.0\.1:$http_port" "$server_pid" 30 || {
    cat "$work/serve.log" >&2
    die "bootherd serve did not start"
}
password=$(head -n 1 "$data/initial-admin-password")
base=http://127.0.0.1:$http_port
login=$(curl -sf -c "$work/cookies" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" "$base/api/v1/login") || die "login failed"
csrf=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["csrf_token"])' "$login")
token=$(curl -sf -b "$work/cookies" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"name":"bench"}' "$base/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
total=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/nodes?limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
[[ $total == "$nodes" ]] || die "the API lists $total nodes, expected $nodes"

# The node's own iSCSI identity (CHAP and initiator name), as its boot script would hand it over.
declare -A node
while IFS='=' read -r key value; do node[$key]=$value; done < <("$bootherd" node show pc-0000 --data "$data")
url="iscsi://${node[chap_user]}%${node[chap_secret]}@127.0.0.1:$iscsi_port/${node[target]}/0"

iscsi_iops() {  # 4 KiB random reads at QD 32 for $seconds; prints the average IOPS
    run_client "$work/perf.out" $((seconds + 60)) iscsi-perf -i "${node[initiator]}" -m 32 -b 8 -t "$seconds" -r "$url" ||
        die "iscsi-perf failed: $(tr '\r' '\n' <"$work/perf.out" | tail -3)"
    tr '\r' '\n' <"$work/perf.out" | sed -n 's/^iops average \([0-9]*\) .*/\1/p' | tail -1
}

run_wrk() {  # $1 = duration in seconds, output to $2
    wrk -t 2 -c "$connections" -d "${1}s" --latency -H "Authorization: Bearer $token" "$base/api/v1/nodes" >"$2" 2>&1
}

wrk_figures() {  # requests/s and p99 from wrk's output $1
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
    p99=$(awk '$1 == "99%" {print $2}' "$1")
    echo "$rps $p99"
}

note "warm-up"
iscsi_iops >/dev/null
run_wrk 2 "$work/wrk-warm.out"

note "1/3 iSCSI alone (${seconds}s)"
alone=$(iscsi_iops)
note "2/3 wrk alone (${seconds}s, $connections connections)"
run_wrk "$seconds" "$work/wrk-alone.out"
read -r rps_alone p99_alone < <(wrk_figures "$work/wrk-alone.out")
note "3/3 both at once"
run_wrk $((seconds + 4)) "$work/wrk-both.out" &
helper_pid=$!
sleep 2
together=$(iscsi_iops)
wait "$helper_pid" || true
helper_pid=""
read -r rps_both p99_both < <(wrk_figures "$work/wrk-both.out")
if grep -q "Non-2xx" "$work/wrk-alone.out" "$work/wrk-both.out"; then
    die "wrk saw error responses: $(grep -h Non-2xx "$work"/wrk-*.out)"
fi

drop=$(awk -v a="$alone" -v b="$together" 'BEGIN {if (a > 0) printf "%.1f", 100 * (a - b) / a; else print "n/a"}')
echo "result case=api-nodes nodes=$nodes connections=$connections requests_per_s=$rps_alone p99=$p99_alone"
echo "result case=api-nodes-with-iscsi requests_per_s=$rps_both p99=$p99_both"
echo "result case=iscsi-4k-randread-qd32 iops_alone=$alone iops_with_api_load=$together drop_percent=$drop"
printf '\n%-44s %s\n' "GET /api/v1/nodes (limit 100 of $nodes)" "$rps_alone req/s, p99 $p99_alone"
printf '%-44s %s\n' "  ... while iSCSI reads run" "$rps_both req/s, p99 $p99_both"
printf '%-44s %s\n' "iSCSI 4 KiB random read QD32, alone" "$alone IOPS"
printf '%-44s %s\n' "  ... under the API load" "$together IOPS ($drop% drop)"
echo "cores: $(nproc)"
