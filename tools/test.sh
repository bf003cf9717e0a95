#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   1. release build (warnings are errors): unit tests and integration tests against real peers;
#   2. ASan+UBSan build: unit tests;
#   3. clang libFuzzer build: every fuzz harness for FUZZ_SECONDS over its committed seed corpus.
# Ends with one line "tests: N passed, M failed" and exits non-zero if anything failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
passed=0
failed=0
failures=()

fail() { failures+=("$1"); failed=$((failed + 1)); }

# Runs ctest and adds its counts to the totals.
run_ctest() {
  local dir=$1
  shift
  local log=$dir/ctest.log
  ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    fail "ctest in $dir ran no test"
    return
  fi
  local total bad
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
  [ "$bad" -eq 0 ] || failures+=("$bad ctest test(s) in $dir")
}

tools/install-deps.sh || { echo "dependency install failed"; exit 1; }

echo "=== release build and tests"
if tools/build.sh build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  # Tests labelled "peer" only check the peer stack (dnsmasq + tgt) the harnesses compare against: run them with
  # `ctest --test-dir build/release -L peer`.
  run_ctest build/release -j2 -LE peer
else
  fail "release build"
fi

echo "=== ASan+UBSan build and unit tests"
if tools/build.sh build/asan -DCMAKE_BUILD_TYPE=Debug -DBOOTHERD_SANITIZE=ON -- unit_tests; then
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_ctest build/asan -L unit -j2
else
  fail "asan build"
fi

echo "=== fuzzers, ${FUZZ_SECONDS}s each"
if CC=clang-14 CXX=clang++-14 tools/build.sh build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOOTHERD_FUZZ=ON -- fuzzers; then
  while IFS='|' read -r binary corpus; do
    [ -n "$binary" ] || continue
    work=$(mktemp -d)
    mkdir -p build/fuzz/artifacts
    if "$binary" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
        -artifact_prefix=build/fuzz/artifacts/ "$work" "$corpus" >"build/fuzz/$(basename "$binary").log" 2>&1; then
      passed=$((passed + 1))
      echo "$(basename "$binary"): $(grep -E 'stat::number_of_executed_units' "build/fuzz/$(basename "$binary").log" | awk '{print $2}') runs, no crash"
    else
      tail -n 40 "build/fuzz/$(basename "$binary").log"
      fail "fuzzer $binary"
    fi
    rm -rf "$work"
  done <build/fuzz/fuzzers.txt
else
  fail "fuzz build"
fi

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
