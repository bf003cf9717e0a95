#!/usr/bin/env bash
# Attack (or accident): while a non-persistent machine runs with its disk logged in, its boot script is fetched
# again and again from its own address (a user of the machine, a retrying firmware script). Property: fetching
# a script never replaces or deletes the disk of a running machine: after 100 fetches the disk file is the
# same, still there, and a new login reads back what the machine wrote.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/security/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/security/lib_boot.sh
. "$here/lib_boot.sh"
sec_require_root
for tool in ip curl qemu-io qemu-img; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing" >&2; exit 77; }
done

data=$(sec_data data)
lan_image "$data" base
mac=52:54:00:5e:d1:01
sec_cli "$data" node add kiosk --mac "$mac" --image base >/dev/null
disk() { sec_node_field "$data" kiosk disk; }

n=$((RANDOM % 200 + 20))
sec_lan "$n"
sec_host kiosk "10.97.$n.10" "$mac" >/dev/null
ns="$SEC_NS-kiosk"
lan_serve "$data" "$SEC_SCRATCH/serve.log" --dhcp proxy

script=$SEC_SCRATCH/script.ipxe
[ "$(lan_http "$ns" "$mac" "$script")" = 200 ] || die "the kiosk cannot fetch its script"
initiator=$(lan_script_value "$script" initiator-iqn)
user=$(lan_script_value "$script" username)
secret=$(lan_script_value "$script" password)
target=$(sed -n 's/^sanboot iscsi:[^:]*::[0-9]*:0:\([^ ]*\).*$/\1/p' "$script")
if [ -z "$target" ] || [ -z "$secret" ]; then die "cannot read the kiosk's script: $(cat "$script")"; fi
booted_disk=$(disk)
opts="driver=iscsi,transport=tcp,portal=$SEC_SERVER_IP:3260,target=$target,lun=0,initiator-name=$initiator,user=$user,password-secret=s0"

# The running machine: one session, kept open, writes a marker and flushes.
mkfifo "$SEC_SCRATCH/commands"
ip netns exec "$ns" qemu-io --object "secret,id=s0,data=$secret" --image-opts "$opts" \
  <"$SEC_SCRATCH/commands" >"$SEC_SCRATCH/live.log" 2>&1 &
live_pid=$!
SEC_PIDS+=("$live_pid")
exec 7>"$SEC_SCRATCH/commands"
echo "write -P 0x5c 1M 64k" >&7
echo "flush" >&7
for _ in $(seq 100); do
  grep -q 'wrote 65536/65536' "$SEC_SCRATCH/live.log" && break
  kill -0 "$live_pid" 2>/dev/null || { cat "$SEC_SCRATCH/live.log"; die "the live session ended"; }
  sleep 0.1
done
grep -q 'wrote 65536/65536' "$SEC_SCRATCH/live.log" || { cat "$SEC_SCRATCH/live.log"; die "the marker write failed"; }
ok "the kiosk is logged in to $target and wrote its marker"

codes=""
for _ in $(seq 100); do
  codes+=" $(lan_http "$ns" "$mac" "$SEC_SCRATCH/again.ipxe")"
done
[ "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" -eq 100 ] || die "the 100 fetches answered:$codes"
ok "100 script fetches from the kiosk's own address while it runs"

[ "$(disk)" = "$booted_disk" ] || die "the disk was replaced under the live session: $booted_disk -> $(disk)"
[ -f "$data/$booted_disk" ] || die "the live disk file $booted_disk was deleted"
kill -0 "$live_pid" 2>/dev/null || die "the live session was dropped"
ok "the disk ($booted_disk) is the same file, still there, its session alive"

# A re-login (the OS initiator reconnecting) reads the marker back.
ip netns exec "$ns" qemu-io --object "secret,id=s0,data=$secret" --image-opts "$opts" -r \
  -c "read -P 0x5c 1M 64k" >"$SEC_SCRATCH/relogin.log" 2>&1 || { cat "$SEC_SCRATCH/relogin.log"; die "re-login failed"; }
if ! grep -q 'read 65536/65536' "$SEC_SCRATCH/relogin.log" || grep -q 'Pattern verification failed' "$SEC_SCRATCH/relogin.log"; then
  cat "$SEC_SCRATCH/relogin.log"
  die "a re-login does not read the marker back"
fi
ok "a re-login reads the marker back"
echo "quit" >&7
exec 7>&-
wait "$live_pid" || true
sec_stop "$LAN_SERVE_PID" || true
echo "live_disk: passed"
