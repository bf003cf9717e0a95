#!/usr/bin/env bash
# The main job on an embedded default: installs what is needed, builds, and serves a small demo disk over iSCSI
# on 127.0.0.1:3260 from ./bootherd-data until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/install-deps.sh
tools/build.sh build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -- bootherd
data=${BOOTHERD_DATA:-$root/bootherd-data}
mkdir -p "$data"
demo=$data/demo.img
if [ ! -e "$demo" ]; then
  truncate -s 64M "$demo"  # sparse: costs nothing until written
fi
echo "Serving $demo; try: iscsi-ls -s iscsi://127.0.0.1:3260  (Ctrl-C stops)"
exec build/release/tools/bootherd/bootherd share "$demo" --listen 127.0.0.1:3260 --iqn iqn.2026-11.org.bootherd:demo
