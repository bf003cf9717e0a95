#!/usr/bin/env bash
# Descriptor exhaustion and slow clients: `serve` under a hard descriptor limit of 1024 faces 2 000 idle
# HTTP connections (from 127.0.0.1 and 127.0.0.2); /healthz and a login must still answer within a few
# seconds; so must they with 2 000 connections from 20 addresses that each sent half a header. Then, with the
# connection caps lifted so the descriptor limit itself is hit, the same. A client sending its request header
# one byte a second is dropped at the documented 30 s deadline.
source "$(dirname "$0")/lib.sh"
sec_require_root

PASSWORD=right-password-1234
data=$(sec_data connections)
echo "$PASSWORD" | sec_cli "$data" admin set-password >/dev/null
real=$BOOTHERD
limited=$SEC_SCRATCH/bootherd-limited
printf '#!/usr/bin/env bash\nulimit -Sn 1024 && ulimit -Hn 1024 || exit 1\nexec %q "$@"\n' "$real" >"$limited"
chmod +x "$limited"

cat >"$SEC_SCRATCH/idle.py" <<'PY'
# Opens COUNT idle connections to PORT, alternating the source address among SOURCES; prints "ready N"
# (how many connected) and holds them until stdin closes or 120 s pass. With SLOW, each then sends the start
# of a request header and nothing more.
import resource, select, socket, sys, time
port, count, sources = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
slow = len(sys.argv) > 4
resource.setrlimit(resource.RLIMIT_NOFILE, (count + 256, count + 256))
held = []
for i in range(count):
    s = socket.socket()
    s.bind((sources[i % len(sources)], 0))
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    held.append(s)
deadline = time.time() + 10
poller = select.poll()
by_fd = {s.fileno(): s for s in held}
for fd in by_fd:
    poller.register(fd, select.POLLOUT)
connected = 0
while by_fd and time.time() < deadline:
    for fd, _ in poller.poll(1000):
        poller.unregister(fd)
        s = by_fd.pop(fd)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            connected += 1
            if slow:
                try:
                    s.send(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
                except OSError:
                    pass
print("ready", connected, flush=True)
select.select([sys.stdin], [], [], 120)
PY

timed() {  # prints "STATUS SECONDS" of one request
  curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$@" || true
}

attack() {  # LABEL SOURCES [slow]: 2 000 idle (or slow) connections, then /healthz and a login from two addresses
  local label=$1 fifo=$SEC_SCRATCH/hold-$1 ready t src
  mkfifo "$fifo"
  python3 "$SEC_SCRATCH/idle.py" "$SEC_HTTP_PORT" 2000 "$2" ${3:+"$3"} <"$fifo" >"$SEC_SCRATCH/idle-$label.out" &
  SEC_PIDS+=("$!")
  exec 7>"$fifo"
  for _ in $(seq 200); do
    ready=$(sed -n 's/^ready //p' "$SEC_SCRATCH/idle-$label.out")
    [ -n "$ready" ] && break
    sleep 0.1
  done
  echo "$label: $ready of 2000 connections opened"
  sleep 1
  for src in 127.0.0.3 127.0.0.1; do
    t=$(timed --interface "$src" "http://127.0.0.1:$SEC_HTTP_PORT/healthz")
    echo "$label: /healthz from $src: $t"
    [ "${t%% *}" = 200 ] || die "$label: /healthz from $src failed ($t)"
    t=$(timed --interface "$src" -H 'Content-Type: application/json' \
      -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$SEC_HTTP_PORT/api/v1/login")
    echo "$label: login from $src: $t"
    [ "${t%% *}" = 200 ] || die "$label: login from $src failed ($t)"
  done
  exec 7>&-
  ok "$label: /healthz and login answer with 2000 connections open"
}

BOOTHERD=$limited sec_serve "$data" "$SEC_SCRATCH/serve1.log"
grep -q "Max open files *1024 *1024" "/proc/$SEC_SERVE_PID/limits" || die "the descriptor limit did not apply"
attack "default caps" 127.0.0.1,127.0.0.2
# Header starts that never finish, from 20 addresses: the longest-reading ones make way for new clients.
attack "slow headers" "$(seq -s, -f '127.0.2.%g' 20)" slow

# The slow header: one byte a second must not keep the connection past the 30 s request deadline.
python3 - "$SEC_HTTP_PORT" <<'PY' || die "a slowloris header outlived the request deadline"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
start = time.time()
s.settimeout(1)
while time.time() - start < 45:
    try:
        s.send(b"a")
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
held = time.time() - start
print("slowloris: dropped after %.1f s" % held)
sys.exit(0 if held < 35 else 1)
PY
ok "a slowloris header is dropped at the deadline"
sec_stop "$SEC_SERVE_PID" || true

# Caps lifted: the descriptor limit is what runs out; idle connections must make way.
BOOTHERD=$limited sec_serve "$data" "$SEC_SCRATCH/serve2.log" --http-max-connections 5000 \
  --http-max-connections-per-address 5000
attack "no caps" 127.0.0.1,127.0.0.2
grep -q "accept failed" "$SEC_SCRATCH/serve2.log" || die "the descriptor limit was never reached"
[ "$(grep -c "accept failed" "$SEC_SCRATCH/serve2.log")" -le 20 ] || die "accept failures are not rate-limited"
ok "out of descriptors, idle connections make way; the failures are logged rate-limited"
