#!/usr/bin/env bash
# The test suite, in stages (docs/development.md has what each covers and how long it takes):
#   fast   g++ (debugoptimized, owner checks on): build, then every suite that needs neither nginx nor a
#          sanitizer. The inner loop while working.
#   quick  g++: every suite (unit, connection, loopback, threads, TLS, interop with nginx, cli, fuzz corpus
#          replay, examples, header self-containment, compile (forms and compile-fail), install). Stage 1
#          of `all`.
#   asan   clang + AddressSanitizer + UBSan: the same suite, then each libFuzzer target for FUZZ_SECONDS.
#   tsan   g++ + ThreadSanitizer: the concurrency tests and the thread-safety demo.
#   all    quick, asan, tsan (what CI runs).
# Usage: tools/test.sh [fast|quick|asan|tsan|all]. Build dirs: build-test-{gcc,asan,tsan}, kept between
# runs; builds go through ccache (tools/ccache.sh; SENTINEL_CCACHE=0 turns it off).
# Environment: JOBS (compile jobs, default nproc), TEST_JOBS (test processes, default 2), FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
source tools/ccache.sh
sentinel_install_deps ccache
sentinel_ccache_setup

stage="${1:-all}"
case "$stage" in fast | quick | asan | tsan | all) ;; *) echo "usage: $0 [fast|quick|asan|tsan|all]" >&2; exit 2 ;; esac
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-$(nproc)}"
TEST_JOBS="${TEST_JOBS:-2}"
started=$(date +%s)
stage_started=$started
timings=()
log() { printf '\n=== [%4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
begin() {  # begin NAME DESCRIPTION
  stage_started=$(date +%s)
  sentinel_ccache_begin "$PWD/build-test-logs/ccache-$1.log"
  log "$2"
}
end() {  # end NAME: record the stage's time and the cache's hit rate
  local took=$(( $(date +%s) - stage_started ))
  local cache; cache=$(sentinel_ccache_summary)
  timings+=("$(printf '%-6s %4ss  %s' "$1" "$took" "$cache")")
  log "$1 done in ${took}s; $cache"
}
trap 'if [ ${#timings[@]} -gt 0 ]; then printf "\n=== stage times\n"; printf "  %s\n" "${timings[@]}"; fi' EXIT

setup() {  # setup DIR CXX [meson options...]: configure once; later runs reuse the directory
  local dir=$1 cxx=$2; shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    rm -rf "$dir"
    CXX="$cxx" meson setup "$dir" --wrap-mode=nodownload "$@" >/dev/null
  fi
}

# Test processes: the suites bind only ports the kernel picks (port 0, or a probed free port with retry for
# nginx) and make their files with mkdtemp, so two may run side by side. Serial where it must be:
#   threads  its stress and scaling cases spawn hundreds of threads and assert drains within deadlines;
#            sharing two cores with another suite makes those deadlines a test of the machine's load.
meson_test() {  # meson_test DIR [meson test options...]
  local dir=$1; shift
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$TEST_JOBS" --no-suite threads "$@"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 1 --suite threads "$@"
}

if [ "$stage" = fast ]; then
  begin fast "fast: g++ build, suites without nginx or a sanitizer"
  setup build-test-gcc "$SENTINEL_CXX_GCC" -Downer_checks=true
  ninja -C build-test-gcc -j "$JOBS"
  # interop is all nginx; the few nginx cases elsewhere (cli, support) skip and say so.
  SENTINEL_TEST_NGINX=off meson_test build-test-gcc --no-suite interop
  end fast
fi

if [ "$stage" = all ] || [ "$stage" = quick ]; then
  begin g++ "g++: build and run the whole suite"
  setup build-test-gcc "$SENTINEL_CXX_GCC" -Downer_checks=true
  ninja -C build-test-gcc -j "$JOBS"
  meson_test build-test-gcc
  end g++
fi

if [ "$stage" = all ] || [ "$stage" = asan ]; then
  begin asan "clang + ASan + UBSan: build, run the suite, fuzz ${FUZZ_SECONDS}s per target"
  setup build-test-asan "$SENTINEL_CXX_CLANG" -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
    -Dbench=false -Downer_checks=true
  ninja -C build-test-asan -j "$JOBS"
  meson_test build-test-asan --timeout-multiplier 3
  end asan
  if [ "$FUZZ_SECONDS" -gt 0 ] && [ -x tools/fuzz.sh ]; then
    begin fuzz "fuzz: ${FUZZ_SECONDS}s per target"
    SENTINEL_FUZZ_BUILD=$PWD/build-test-asan tools/fuzz.sh "$FUZZ_SECONDS"
    end fuzz
  fi
fi

if [ "$stage" = all ] || [ "$stage" = tsan ]; then
  begin tsan "g++ + TSan: concurrency tests and the demo"
  setup build-test-tsan "$SENTINEL_CXX_GCC" -Db_sanitize=thread -Dbench=false -Dtools=false -Downer_checks=true
  ninja -C build-test-tsan -j "$JOBS" tests/threads/threads_tests tests/threads/owner_probe examples/thread_safety_demo
  meson test -C build-test-tsan --no-rebuild --print-errorlogs --suite threads --timeout-multiplier 3
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" \
    build-test-tsan/examples/thread_safety_demo --workers 8 --requests 50
  end tsan
fi
log "stage $stage passed"
