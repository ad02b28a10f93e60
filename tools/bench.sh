#!/usr/bin/env bash
# The benchmark suite (bench/README.md): installs the peers it compares with, configures build-bench (release,
# through the compiler cache of tools/ccache.sh) once, and runs `meson test --benchmark` with the given
# arguments, e.g. `tools/bench.sh --suite quick` or `tools/bench.sh -v dispatch`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
source tools/ccache.sh
sentinel_install_deps ccache "${SENTINEL_BENCH_PACKAGES[@]}"
sentinel_ccache_setup
if [ ! -f build-bench/build.ninja ]; then
  rm -rf build-bench
  CXX="$SENTINEL_CXX_GCC" meson setup build-bench --buildtype=release --wrap-mode=nodownload >/dev/null
fi
sentinel_ccache_begin "$PWD/build-bench/ccache-stats.log"
ninja -C build-bench
sentinel_ccache_summary
exec meson test -C build-bench --benchmark "$@"
