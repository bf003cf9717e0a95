#!/usr/bin/env bash
# The image store's storage figure at full size: 256 node disks on a 1 GiB base, each writing 16 MiB of random
# data; prints the total on disk and checks it is at most base + 1.1 x 256 x 16 MiB. Needs about 5.5 GiB in
# TMPDIR. Usage: tools/bench/storage_bench.sh [BUILD_DIR]   (default: build)
set -euo pipefail
build=${1:-build}
exec "$build/tests/unit/store/unit_store" --no-skip --test-case="storage figure full size" --success=false
