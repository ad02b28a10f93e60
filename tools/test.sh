#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, then
#   1. g++ (debugoptimized, owner checks on): every test (unit, wire, loopback, threads, TLS, interop
#      with nginx, fuzz corpus replay, examples, header self-containment)
#   2. clang + AddressSanitizer + UBSan: the same suite, and each libFuzzer target for FUZZ_SECONDS
#   3. g++ + ThreadSanitizer: the concurrency tests and the thread-safety demo
# Usage: tools/test.sh [all|quick|asan|tsan]   (quick = stage 1 only). Build dirs: build-test-*.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
sentinel_install_deps

stage="${1:-all}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-$(nproc)}"
started=$(date +%s)
log() { printf '\n=== [%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

setup() {  # setup DIR [meson options...]
  local dir=$1; shift
  if [ ! -d "$dir" ]; then meson setup "$dir" --wrap-mode=nodownload "$@" >/dev/null; fi
}

if [ "$stage" = all ] || [ "$stage" = quick ]; then
  log "g++: build and run the whole suite"
  setup build-test-gcc -Downer_checks=true
  ninja -C build-test-gcc -j "$JOBS"
  meson test -C build-test-gcc --no-rebuild --print-errorlogs --num-processes 1
fi

if [ "$stage" = all ] || [ "$stage" = asan ]; then
  log "clang + ASan + UBSan: build, run the suite, fuzz ${FUZZ_SECONDS}s per target"
  CXX=clang++ setup build-test-asan -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true -Dbench=false \
    -Downer_checks=true
  ninja -C build-test-asan -j "$JOBS"
  meson test -C build-test-asan --no-rebuild --print-errorlogs --num-processes 1 --timeout-multiplier 3
  if [ "$FUZZ_SECONDS" -gt 0 ] && [ -x tools/fuzz.sh ]; then
    SENTINEL_FUZZ_BUILD=$PWD/build-test-asan tools/fuzz.sh "$FUZZ_SECONDS"
  fi
fi

if [ "$stage" = all ] || [ "$stage" = tsan ]; then
  log "g++ + TSan: concurrency tests and the demo"
  setup build-test-tsan -Db_sanitize=thread -Dbench=false -Dtools=false -Downer_checks=true
  ninja -C build-test-tsan -j "$JOBS" tests/threads/threads_tests tests/threads/owner_probe examples/thread_safety_demo
  meson test -C build-test-tsan --no-rebuild --print-errorlogs --suite threads --timeout-multiplier 3
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" \
    build-test-tsan/examples/thread_safety_demo --workers 8 --requests 50
fi
log "all stages passed"
