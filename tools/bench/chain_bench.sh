#!/usr/bin/env bash
# Serves the same disk content two ways with `bootherd share`, one after the other in one run, and compares them:
#   chain: node.vhdx -> diff2.vhdx -> diff1.vhdx -> base.vhdx (a node disk on a 3-deep differencing chain with
#          scattered writes in every level, built by chain_image)
#   flat:  flat.raw, the chain's content as one raw file
# with iscsi-perf: 4 KiB random read at QD 32 and 128 KiB sequential read at QD 16. Prints IOPS and MiB/s of
# both and the chain/flat ratio; the image store's goal is chain >= 0.8x flat.
# Loopback only; every process and file it creates is removed on exit. No root needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: $0 [options]            (each option also has an environment variable)
  --seconds N         BENCH_SECONDS   seconds per case (default 10)
  --rounds N          BENCH_ROUNDS    repeat both disks N times, alternating their order; medians (default 1)
  --size-mib N        BENCH_SIZE_MIB  disk size in MiB (default 1024)
  --writes N          BENCH_WRITES    scattered writes per differencing level (default 4000)
  --dir DIR           BENCH_DIR       where the scratch directory is made (default \${TMPDIR:-/var/tmp})
  --bootherd PATH     BOOTHERD        bootherd binary (default: newest of build/release and build)
  --chain-image PATH  CHAIN_IMAGE     chain_image binary (default: next to the bootherd binary's build)
                      BOOTHERD_ARGS   extra arguments for \`bootherd share\`
EOF
    exit 2
}

seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-1}
size_mib=${BENCH_SIZE_MIB:-1024}
writes=${BENCH_WRITES:-4000}
parent_dir=${BENCH_DIR:-${TMPDIR:-/var/tmp}}
bootherd=${BOOTHERD:-}
chain_image=${CHAIN_IMAGE:-}
while (($#)); do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --size-mib) size_mib=$2; shift 2 ;;
        --writes) writes=$2; shift 2 ;;
        --dir) parent_dir=$2; shift 2 ;;
        --bootherd) bootherd=$2; shift 2 ;;
        --chain-image) chain_image=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "--seconds wants a whole number of seconds (iscsi-perf takes no fractions)"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive whole number"
if ! [[ $size_mib =~ ^[1-9][0-9]*$ ]] || ((size_mib < 16)); then die "--size-mib wants a whole number >= 16"; fi
[[ $writes =~ ^[1-9][0-9]*$ ]] || die "--writes wants a positive whole number"
for tool in iscsi-perf timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (run tools/install-deps.sh)"
done
bootherd=$(built_binary tools/bootherd/bootherd "$bootherd" "pass --bootherd PATH") || exit
if [[ -z $chain_image ]]; then
    # bootherd is <build>/tools/bootherd/bootherd; chain_image is <build>/tools/bench/chain_image.
    chain_image=$(dirname "$(dirname "$bootherd")")/bench/chain_image
fi
[[ -x $chain_image ]] || die "chain_image not built ($chain_image); pass --chain-image PATH"

make_scratch "$parent_dir" chain-bench
stop_server=stop_bootherd

iqn=iqn.2026-11.org.bootherd:chain-bench
note "building the chain and its flat copy in $work (${size_mib} MiB, $writes writes per level)"
"$chain_image" --dir "$work" --size-mib "$size_mib" --writes "$writes" || die "chain_image failed"
for f in base diff1 diff2 node; do
    note "$f.vhdx: $(du -k "$work/$f.vhdx" | cut -f1) KiB allocated"
done

# case name | pattern | bytes per command | queue depth
cases=(
    "4k-randread-qd32|random|4096|32"
    "128k-seqread-qd16|seq|131072|16"
)
declare -A result  # "<disk>,<case>" -> the IOPS of every round, space-separated

run_case() {
    local url=$1 disk=$2 name pattern bs qd flags=() out iops
    IFS='|' read -r name pattern bs qd <<<"$3"
    [[ $pattern == random ]] && flags+=(-r)
    run_client "$work/client.out" $((seconds + 60)) iscsi-perf -m "$qd" -b $((bs / 512)) -t "$seconds" \
        "${flags[@]}" "$url" || die "$disk $name: iscsi-perf failed: $(tr '\r' '\n' <"$work/client.out" | tail -3)"
    kill -0 "$server_pid" 2>/dev/null || die "bootherd exited during $disk $name"
    out=$(tr '\r' '\n' <"$work/client.out")
    iops=$(sed -n 's/^iops average \([0-9]*\) .*/\1/p' <<<"$out" | tail -1)
    [[ -n $iops ]] || die "$disk $name: no result from iscsi-perf: $(tail -3 <<<"$out")"
    result[$disk,$name]+="$iops "
    echo "result round=$round disk=$disk case=$name iops=$iops" \
        "mibps=$(awk -v i="$iops" -v b="$bs" 'BEGIN {printf "%.1f", i * b / 1048576}')"
}

# Serves disk $1 (chain or flat) and runs every case against it. Both start with every file in the page cache:
# the comparison is of the serving paths, not of the disk under them.
bench_disk() {
    local disk=$1 file port
    [[ $disk == chain ]] && file=$work/node.vhdx || file=$work/flat.raw
    cat "$work"/*.vhdx "$work/flat.raw" >/dev/null
    port=$(pick_port)
    note "round $round: bootherd share $file on 127.0.0.1:$port"
    start_bootherd "$bootherd" "$file" "$port" "$iqn" "$work/bootherd.log"
    local c
    for c in "${cases[@]}"; do
        note "$disk: ${c%%|*} for ${seconds}s"
        run_case "iscsi://127.0.0.1:$port/$iqn/0" "$disk" "$c"
    done
    stop_bootherd
}

order=(flat chain)
for ((round = 1; round <= rounds; round++)); do
    for disk in "${order[@]}"; do bench_disk "$disk"; done
    order=("${order[1]}" "${order[0]}")
done

median() {  # of the space-separated numbers in $1; nothing for an empty list
    # shellcheck disable=SC2086  # splitting the list is the point
    printf '%s\n' ${1:-} | sort -g | awk 'NF {v[++n] = $1} END {if (n) printf "%.0f\n", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)}'
}

echo
(( rounds == 1 )) || echo "Each figure is the median of $rounds rounds."
printf '%-18s | %10s %8s | %10s %8s | %11s\n' case "flat IOPS" MiB/s "chain IOPS" MiB/s "chain/flat"
verdicts=()
for c in "${cases[@]}"; do
    IFS='|' read -r name _ bs _ <<<"$c"
    flat=$(median "${result[flat,$name]:-}")
    chain=$(median "${result[chain,$name]:-}")
    printf '%-18s | %10s %8s | %10s %8s | %11s\n' "$name" \
        "$flat" "$(awk -v i="$flat" -v b="$bs" 'BEGIN {printf "%.1f", i * b / 1048576}')" \
        "$chain" "$(awk -v i="$chain" -v b="$bs" 'BEGIN {printf "%.1f", i * b / 1048576}')" \
        "$(awk -v a="$chain" -v b="$flat" 'BEGIN {printf "%.2fx", a / b}')"
    verdicts+=("$name $(awk -v a="$chain" -v b="$flat" 'BEGIN {print (a >= 0.8 * b ? "met" : "MISSED")}')")
done
printf -v joined '%s, ' "${verdicts[@]}"
echo "goal, chain IOPS >= 0.8x flat: ${joined%, }"
