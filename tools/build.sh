#!/usr/bin/env bash
# Configures and builds one build tree. Usage: tools/build.sh DIR [extra cmake args...] [-- ninja targets...]
# The trees the project uses: build/release (warnings as errors), build/asan (ASan+UBSan), build/fuzz (clang).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
cmake_args=()
targets=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
  cmake_args+=("$1")
  shift
done
cmake -S "$root" -B "$root/$dir" -G Ninja -DBOOTHERD_WERROR=ON "${cmake_args[@]}" >/dev/null
ninja -C "$root/$dir" "${targets[@]}"
