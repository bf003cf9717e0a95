#!/usr/bin/env bash
# The main job on an embedded default: installs what is needed, builds, and serves from ./bootherd-data
# (SQLite catalog + images) on 127.0.0.1:3260 until Ctrl-C. The first run imports a small bootable demo image
# (tests/boot/make_bios_disk.sh: it prints a boot counter on the serial console) and enrolls one demo machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/install-deps.sh
tools/build.sh build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -- bootherd
bootherd=build/release/tools/bootherd/bootherd
data=${BOOTHERD_DATA:-$root/bootherd-data}
mkdir -p "$data"
if ! "$bootherd" image versions demo --data "$data" >/dev/null 2>&1; then
  demo=$(mktemp /tmp/bootherd-demo.XXXXXX.img)
  bash tests/boot/make_bios_disk.sh "$demo" >/dev/null
  "$bootherd" image import demo "$demo" --data "$data"
  rm -f "$demo"
  # The demo machine logs in from this host (qemu, iscsi-inq), not after a PXE exchange the server could tie
  # its address to: address binding off, CHAP only (docs/SECURITY.md).
  "$bootherd" node add demo-pc --mac 52:54:00:00:00:01 --image demo --no-bind-address --data "$data"
fi
"$bootherd" node list --data "$data"
echo "Serving from $data on 127.0.0.1:3260 (Ctrl-C stops). A machine's target, initiator name and CHAP:"
"$bootherd" node show demo-pc --data "$data"
exec "$bootherd" serve --data "$data" --listen 127.0.0.1:3260 --listen-http 127.0.0.1:8080
