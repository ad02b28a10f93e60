#!/usr/bin/env bash
# Bounded libFuzzer run of every fuzz target (tests/fuzz/README.md), one target at a time.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]      SECONDS per target (default 60); TARGETs: response chunked url
#                                            http2 (the default: all four; http2 only when HTTP/2 is built)
#
# Configures a clang build directory with libFuzzer + ASan + UBSan if it does not exist yet (default
# build-fuzz, or $SENTINEL_FUZZ_BUILD), builds the targets, and runs each with the corpus from
# tests/fuzz/corpus/<target>/ (read only: new inputs go to <build>/fuzz/corpus/<target>/). Prints execs/s
# and total execs per target, parsed from libFuzzer's final stats. Exits non-zero if any target crashed,
# leaked, hit UB, timed out or ran out of memory; the crash artifact's path is printed (and kept in
# <build>/fuzz/artifacts/). One fuzzer process at a time, one job: the machine's cores are shared.
# Environment: SENTINEL_FUZZ_BUILD (build directory), CXX_FUZZ (compiler, default clang++).
set -euo pipefail

seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [SECONDS] [response|chunked|url|http2 ...]" >&2
  exit 2
fi
targets=("$@")
explicit=${#targets[@]}
[ "$explicit" -eq 0 ] && targets=(response chunked url http2)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SENTINEL_FUZZ_BUILD:-$root/build-fuzz}
source "$root/tools/ccache.sh"
CXX_CLANG=${CXX_FUZZ:-clang++} sentinel_ccache_setup

if [ ! -f "$build/build.ninja" ]; then
  echo "fuzz.sh: configuring $build (clang, libFuzzer, ASan+UBSan)"
  setup_log=$(mktemp "${TMPDIR:-/tmp}/fuzz-setup.XXXXXX")
  # -Dfuzz=true gives libsentinel (where the parsers live) libFuzzer's coverage instrumentation and builds
  # the fuzz executables (meson.build, tests/fuzz/meson.build). b_lundef=false: clang's sanitizer runtimes
  # are not linked into shared objects (meson warns otherwise).
  CXX=$SENTINEL_CXX_CLANG meson setup "$build" "$root" \
    -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbench=false -Dexamples=false -Dtools=false >"$setup_log" 2>&1 || {
    cat "$setup_log" >&2
    echo "fuzz.sh: meson setup failed" >&2
    exit 2
  }
  rm -f "$setup_log"
fi
for t in "${targets[@]}"; do
  case $t in response | chunked | url | http2) ;; *)
    echo "fuzz.sh: unknown target '$t'" >&2
    exit 2
    ;;
  esac
done
mkdir -p "$build/fuzz"
# fuzz_http2 exists only in a build with HTTP/2 (nghttp2): by default it is left out without it.
if [ "$explicit" -eq 0 ] && ! ninja -C "$build" -t targets all 2>/dev/null | grep -q '^tests/fuzz/fuzz_http2:'; then
  echo "fuzz.sh: http2 skipped: this build has no HTTP/2 (nghttp2)"
  targets=(response chunked url)
fi
if ! ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz_}" >"$build/fuzz/build.log" 2>&1; then
  tail -40 "$build/fuzz/build.log" >&2
  echo "fuzz.sh: build failed (full log: $build/fuzz/build.log)" >&2
  exit 2
fi

# UBSan only reports and continues unless told to stop; a report must be a crash libFuzzer saves.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

status=0
summary=()
for t in "${targets[@]}"; do
  work=$build/fuzz/corpus/$t
  artifacts=$build/fuzz/artifacts
  log=$build/fuzz/$t.log
  mkdir -p "$work" "$artifacts"
  max_len=4096
  [ "$t" = url ] && max_len=1024
  echo "fuzz.sh: $t for ${seconds}s (log: $log)"
  rc=0
  "$build/tests/fuzz/fuzz_$t" "$work" "$root/tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" >"$log" 2>&1 || rc=$?
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(final_stat number_of_executed_units)
  rate=$(final_stat average_exec_per_sec)
  added=$(final_stat new_units_added)
  rss=$(final_stat peak_rss_mb)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
  line=$(printf '%-9s execs/s: %-7s total execs: %-10s new units: %-5s cov: %-6s peak rss: %s MB' \
    "$t" "${rate:-?}" "${execs:-?}" "${added:-?}" "${cov:-?}" "${rss:-?}")
  if [ "$rc" -ne 0 ]; then
    status=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    reason=$(grep -m1 -E 'fuzz invariant violated|runtime error:|^SUMMARY:' "$log" ||
      grep -m1 -E 'ERROR:' "$log" || true)
    line+=$'\n'"            FAILED (exit $rc): ${reason:-see the log}"$'\n'"            artifact: ${artifact:-none}"
    # The report: from the first error line, without ASan's shadow-byte dump.
    first=$(grep -n -m1 -E 'fuzz invariant violated|runtime error:|ERROR:' "$log" | cut -d: -f1 || true)
    echo "fuzz.sh: $t FAILED; report from $log:" >&2
    sed -n "${first:-1},\$p" "$log" | grep -v -E '^  0x[0-9a-f]+:|^=>0x' | head -40 >&2
  fi
  summary+=("$line")
done

echo
echo "fuzz.sh summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $status
