#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test dotpin has:
#   1. unit + integration tests (warnings are errors)           build/
#   2. the same again under AddressSanitizer + UBSan             build-asan/
#   3. libFuzzer targets, FUZZ_SECONDS each (default 30), clang   build-fuzz/
#   4. a smoke run of every benchmark binary (they must run; no timing is asserted)
# Ends with one line "tests: N passed, N failed, N skipped" (a skipped suite is never counted as
# passed; with CI=true it also counts as failed). Exit status 0 only if everything passed.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
fuzz_seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-2}

scripts/install-deps.sh || exit 1

passed=0
failed=0
skipped=0
failures=()
count_meson() {  # build dir: adds its testlog.json results to the totals
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || return
  local ok bad skip
  ok=$(grep -c '"result": "OK"' "$log" || true)
  bad=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skip=$(grep -c '"result": "SKIP"' "$log" || true)
  passed=$((passed + ok))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
  [ "$bad" -eq 0 ] || failures+=("$1: $bad meson test(s) failed; see $1/meson-logs/testlog.txt")
  # A suite that skipped (not root, a tool missing) is reported as skipped, never as passed; in CI
  # every suite is needed, so a skip fails the run.
  if [ "$skip" -gt 0 ] && [ "${CI:-}" = "true" ]; then
    failed=$((failed + skip))
    failures+=("$1: $skip suite(s) skipped, which CI does not allow; see $1/meson-logs/testlog.txt")
  fi
}

setup() {  # dir, then meson options
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

t0=$SECONDS
step() { echo; echo "=== [$((SECONDS - t0)) s] $*"; }

step "build + unit and integration tests"
if setup build -Dwerror=true && ninja -C build -j "$jobs"; then
  meson test -C build --num-processes "$jobs" --print-errorlogs
  count_meson build
else
  failed=$((failed + 1)); failures+=("build/ did not build")
fi

step "AddressSanitizer + UBSan: unit and integration tests"
# -O0 with line tables only (-g1): gcc's ASan+UBSan instrumentation at -O2 -g made this build 80 %
# of CI's time (tls/shard_test.cc alone: 122 s at -O2 -g, 18 s at -O0 -g1); the sanitizers detect
# as much at -O0, and stack traces keep their file:line.
if setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Dbenches=false -Doptimization=0 -Ddebug=false \
     -Dc_args=-g1 -Dcpp_args=-g1 && ninja -C build-asan -j "$jobs"; then
  meson test -C build-asan --num-processes "$jobs" --print-errorlogs
  count_meson build-asan
else
  failed=$((failed + 1)); failures+=("build-asan/ did not build")
fi

step "libFuzzer targets, ${fuzz_seconds}s each"
if CXX=clang++ setup build-fuzz -Dwerror=true -Dfuzzers=true -Dtests=false -Dbenches=false \
     -Db_sanitize=address,undefined -Db_lundef=false && ninja -C build-fuzz -j "$jobs"; then
  fuzz_log=$(mktemp /tmp/dotpin-fuzz-run.XXXXXX)
  scripts/run-fuzzers.sh build-fuzz "$fuzz_seconds" | tee "$fuzz_log"
  fuzz_rc=${PIPESTATUS[0]}
  counts=$(grep -E '^fuzz summary: ok=[0-9]+ failed=[0-9]+$' "$fuzz_log" | tail -1)
  rm -f "$fuzz_log"
  if [ -n "$counts" ]; then
    fuzz_ok=$(echo "$counts" | sed -E 's/^fuzz summary: ok=([0-9]+) .*/\1/')
    fuzz_bad=$(echo "$counts" | sed -E 's/.* failed=([0-9]+)$/\1/')
    passed=$((passed + fuzz_ok))
    failed=$((failed + fuzz_bad))
  fi
  if [ "$fuzz_rc" -ne 0 ] || [ -z "$counts" ]; then
    [ -n "$counts" ] || failed=$((failed + 1))
    failures+=("a fuzz target failed or the fuzz run did not finish; inputs in fuzz-artifacts/")
  fi
else
  failed=$((failed + 1)); failures+=("build-fuzz/ did not build")
fi

step "benchmark smoke run (they must run; no timing is asserted)"
record_other=$([ -x build/bench/dotpin_record_system_bench ] && echo record_system)
for bench in pin dot shard packet pipeline record $record_other; do
  log=$(mktemp /tmp/dotpin-bench-smoke.XXXXXX)
  # A benchmark that reports an error (a suite not negotiated, a handshake that failed) fails too.
  if build/bench/dotpin_${bench}_bench --benchmark_min_time=0.01 >"$log" 2>&1 &&
     ! grep -q "ERROR OCCURRED" "$log"; then
    passed=$((passed + 1)); tail -n 3 "$log"
  else
    failed=$((failed + 1)); failures+=("bench/dotpin_${bench}_bench failed"); cat "$log"
  fi
  rm -f "$log"
done

echo
echo "=== [$((SECONDS - t0)) s] done"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
