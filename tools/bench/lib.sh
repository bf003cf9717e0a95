# shellcheck shell=bash
# Helpers shared by the benchmark scripts here (sourced, not run).
# Everything here works on 127.0.0.1 only and on processes the calling script started itself.

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() {
    echo "error: $*" >&2
    exit 2
}

note() { echo "== $*" >&2; }

# The newest existing file among the arguments (by modification time), or nothing.
newest_of() {
    local best="" f
    for f in "$@"; do
        [[ -x $f ]] || continue
        if [[ -z $best || $f -nt $best ]]; then best=$f; fi
    done
    [[ -n $best ]] && echo "$best"
}

# Prints the program to run: $2 when given, else the newest build of $1 (its path in a build directory, such as
# tools/bootherd/bootherd) in build/release or build. Exits, telling how to pass one ($3), when there is none or
# it cannot be run. Call as: prog=$(built_binary ...) || exit
built_binary() {
    local relative=$1 given=$2 how=$3 path
    path=${given:-$(newest_of "$repo_root/build/release/$relative" "$repo_root/build/$relative")} ||
        die "${relative##*/} not built; $how"
    [[ -x $path ]] || die "$path is not executable"
    echo "$path"
}

# True when something listens on 127.0.0.1:$1.
port_listens() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port nothing listens on, picked at random below the kernel's ephemeral range so that the benchmark's own
# client connections cannot be holding it.
pick_port() {
    local low port tries
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    (( low > 20000 )) || low=32768
    for ((tries = 0; tries < 100; tries++)); do
        port=$((20000 + RANDOM % (low - 20000)))
        if ! port_listens "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found on 127.0.0.1"
}

# Runs command $3... every 0.1 s until it succeeds while process $1 is alive; $2 = seconds allowed. Fails when
# the process ends or the time runs out first.
wait_until() {
    local pid=$1 limit=$2 waited=0
    shift 2
    until "$@"; do
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
        waited=$((waited + 1))
        (( waited < limit * 10 )) || return 1
    done
}

# Waits until 127.0.0.1:$1 accepts connections while process $2 is alive; $3 = seconds allowed.
wait_for_listen() {
    wait_until "$2" "$3" port_listens "$1"
}

# Waits until file $1 holds a line matching $2 while process $3 is alive; $4 = seconds allowed.
wait_for_log() {
    wait_until "$3" "$4" grep -qs -- "$2" "$1"
}

# CPU seconds (user + system, including reaped children) the process has used so far, in clock ticks.
cpu_ticks() {
    local stat fields
    stat=$(<"/proc/$1/stat") || return 1
    # Fields after the ")" that ends the command name: utime is the 12th, stime 13th, cutime 14th, cstime 15th.
    read -r -a fields <<<"${stat##*) }"
    echo $((fields[11] + fields[12] + fields[13] + fields[14]))
}

rss_kib() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# Peak resident set size (VmHWM) of process $1, in KiB.
hwm_kib() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# How many TCP connections to local port $1 are established right now.
established_connections() {
    ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l
}

# Sends SIGTERM to a process we started, waits up to $2 seconds, then SIGKILLs it.
stop_process() {
    local pid=$1 grace=${2:-10} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Runs a client (command and arguments after $1 and $2) under a time limit of $2 seconds, its output going to
# file $1. It runs in the background while the script waits, because bash defers a trapped signal until a
# foreground command ends; this way Ctrl-C or SIGTERM cleans up at once. Sets client_pid while it runs.
run_client() {
    local out=$1 limit=$2 rc=0
    shift 2
    timeout "$limit" "$@" >"$out" 2>&1 &
    client_pid=$!
    wait "$client_pid" || rc=$?
    client_pid=""
    return "$rc"
}

stop_client() {
    [[ -n ${client_pid:-} ]] && stop_process "$client_pid" 2
    client_pid=""
}

# Stops the helper process in helper_pid (a sampler, perf, a second client), if one runs.
stop_helper() {
    [[ -n ${helper_pid:-} ]] && stop_process "$helper_pid" "$helper_grace"
    helper_pid=""
}

# Makes the scratch directory $work (bootherd-$2.XXXXXX in directory $1) and, on exit, Ctrl-C or SIGTERM (status
# 130), stops what still runs and removes it: the client of run_client, the helper process helper_pid (SIGKILL
# after $3 seconds, default 2) and the server, by the command named in stop_server. Clears server_pid, stop_server
# and helper_pid.
make_scratch() {
    work=$(mktemp -d "$1/bootherd-$2.XXXXXX")
    helper_grace=${3:-2}
    server_pid=""
    stop_server=""
    helper_pid=""
    trap remove_scratch EXIT
    trap 'exit 130' INT TERM
}

# shellcheck disable=SC2317  # runs from the EXIT trap
remove_scratch() {
    stop_client
    stop_helper
    [[ -n $stop_server ]] && "$stop_server"
    rm -rf "$work"
}

# Starts `bootherd share` with binary $1 on file $2 at 127.0.0.1:$3 as IQN $4, logging to $5; sets server_pid.
# The LUN it serves is 0.
start_bootherd() {
    local binary=$1 file=$2 port=$3 iqn=$4 log=$5
    # shellcheck disable=SC2086  # BOOTHERD_ARGS is a word list on purpose
    "$binary" share "$file" --listen "127.0.0.1:$port" --iqn "$iqn" ${BOOTHERD_ARGS:-} >"$log" 2>&1 &
    server_pid=$!
    # Its "serving ... on ADDR:PORT" line comes once the listener is bound; no probe connection needed.
    if ! wait_for_log "$log" "serving .* on 127\.0\.0\.1:$port" "$server_pid" 20; then
        cat "$log" >&2
        die "bootherd share did not start serving on 127.0.0.1:$port"
    fi
}

stop_bootherd() {
    [[ -n ${server_pid:-} ]] && stop_process "$server_pid" 10
    server_pid=""
}

# Starts a private tgtd, with no targets yet, listening on 127.0.0.1:$1 and logging to $2; sets server_pid and
# tgt_control, its own control socket number, so a tgtd already running is left alone.
start_tgtd() {
    local port=$1 log=$2 tries
    for ((tries = 0; tries < 100; tries++)); do
        tgt_control=$((100 + RANDOM % 9000))
        [[ -e /var/run/tgtd/socket.$tgt_control || -e /var/run/tgtd/socket.$tgt_control.lock ]] || break
    done
    tgtd -f -C "$tgt_control" --iscsi "portal=127.0.0.1:$port" >"$log" 2>&1 &
    server_pid=$!
    if ! wait_for_listen "$port" "$server_pid" 20; then
        cat "$log" >&2
        die "tgtd did not start listening on 127.0.0.1:$port"
    fi
}

# Stops the tgtd of start_tgtd (SIGTERM, SIGKILL after $1 seconds) and removes its control socket files.
kill_tgtd() {
    stop_process "$server_pid" "$1"
    rm -f "/var/run/tgtd/socket.$tgt_control" "/var/run/tgtd/socket.$tgt_control.lock"
    server_pid=""
}

# Starts a private tgtd (start_tgtd) serving file $1 at 127.0.0.1:$2 as IQN $3, logging to $4, with backing-store
# open flags $5 if given (e.g. "direct"); sets server_pid and tgt_control. tgt's disk is LUN 1 (LUN 0 is its
# controller).
start_tgt() {
    local file=$1 port=$2 iqn=$3 log=$4 bsoflags=${5:-}
    start_tgtd "$port" "$log"
    local adm=(tgtadm -C "$tgt_control" --lld iscsi)
    if ! { "${adm[@]}" --op new --mode target --tid 1 -T "$iqn" &&
        "${adm[@]}" --op new --mode logicalunit --tid 1 --lun 1 -b "$file" ${bsoflags:+--bsoflags "$bsoflags"} &&
        "${adm[@]}" --op bind --mode target --tid 1 -I ALL; }; then
        die "tgtadm could not set up the target"
    fi
}

# tgtd ignores SIGTERM while it has targets: delete the target, ask it to exit, and SIGKILL it if it lingers.
stop_tgt() {
    [[ -n ${server_pid:-} ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        tgtadm -C "$tgt_control" --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
        tgtadm -C "$tgt_control" --op delete --mode system >/dev/null 2>&1 || true
    fi
    kill_tgtd 5
}

# Lifts the soft descriptor limit to at least $1 (as far as the hard limit allows).
raise_fd_limit() {
    local want=$1 hard
    (( $(ulimit -Sn) >= want )) && return 0
    hard=$(ulimit -Hn)
    [[ $hard == unlimited ]] || (( hard >= want )) || ulimit -Hn "$want" 2>/dev/null || want=$hard
    ulimit -Sn "$want" || true
}

# --- for bootstorm.sh ---

# Seconds (3 decimals) since $1, a value of $EPOCHREALTIME.
elapsed_since() {
    LC_NUMERIC=C awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

# A node CSV for `bootherd node import`: $1 machines named pc0000... with locally administered MACs, on image $2,
# in group $3 (none if empty).
make_nodes_csv() {
    local count=$1 image=$2 group=${3:-}
    echo "name,mac,image,group,persistent"
    awk -v n="$count" -v img="$image" -v grp="$group" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "pc%04d,02:42:00:%02x:%02x:%02x,%s,%s,\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, img, grp }'
}

# Starts `bootherd serve` with binary $1 on data directory $2 at 127.0.0.1:$3, logging to $4; sets server_pid.
start_bootherd_serve() {
    local binary=$1 data=$2 port=$3 log=$4
    # shellcheck disable=SC2086  # BOOTHERD_ARGS is a word list on purpose
    "$binary" serve --data "$data" --listen "127.0.0.1:$port" ${BOOTHERD_ARGS:-} >"$log" 2>&1 &
    server_pid=$!
    if ! wait_for_log "$log" "serving .* on 127\.0\.0\.1:$port" "$server_pid" 60; then
        cat "$log" >&2
        die "bootherd serve did not start serving on 127.0.0.1:$port"
    fi
}

# Starts a private tgtd (start_tgtd) at 127.0.0.1:$1 with one target per line of clients file $2 ("IQN INITIATOR
# LUN USER SECRET"): target line i (from 0) serves $3/node<i>.img as LUN 1 to that CHAP user. Logs to $4; sets
# server_pid and tgt_control. Stop it with stop_tgt_targets.
start_tgt_targets() {
    local port=$1 list=$2 dir=$3 log=$4 tid=0 iqn initiator lun user secret
    start_tgtd "$port" "$log"
    local adm=(tgtadm -C "$tgt_control" --lld iscsi)
    while read -r iqn initiator lun user secret; do
        [[ -n $iqn ]] || continue
        tid=$((tid + 1))
        if ! { "${adm[@]}" --op new --mode target --tid "$tid" -T "$iqn" &&
            "${adm[@]}" --op new --mode logicalunit --tid "$tid" --lun "$lun" -b "$dir/node$((tid - 1)).img" &&
            "${adm[@]}" --op new --mode account --user "$user" --password "$secret" &&
            "${adm[@]}" --op bind --mode account --tid "$tid" --user "$user" &&
            "${adm[@]}" --op bind --mode target --tid "$tid" -I ALL; }; then
            die "tgtadm could not set up target $tid ($iqn, initiator $initiator)"
        fi
    done <"$list"
}

# Stops the tgtd of start_tgt_targets: it ignores SIGTERM while it has targets, so it ends with SIGKILL.
stop_tgt_targets() {
    [[ -n ${server_pid:-} ]] || return 0
    kill_tgtd 1
}
