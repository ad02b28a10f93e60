#!/usr/bin/env bash
# The thread-safety demo from a fresh clone: installs dependencies, builds, and runs
#   thread_safety_demo --workers 100 --requests 100
# against the built-in local server. Extra arguments go to the demo (e.g. --workers 1000 --requests 10).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
source tools/ccache.sh
sentinel_install_deps ccache
sentinel_ccache_setup
if [ ! -f build/build.ninja ]; then
  rm -rf build
  CXX="$SENTINEL_CXX_GCC" meson setup build --wrap-mode=nodownload >/dev/null
fi
ninja -C build examples/thread_safety_demo >/dev/null
if [ $# -eq 0 ]; then set -- --workers 100 --requests 100; fi
exec build/examples/thread_safety_demo "$@"
