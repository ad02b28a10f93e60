#!/usr/bin/env bash
# Compiler cache for the build scripts (tools/test.sh, tools/demo.sh, tools/fuzz.sh, tools/bench.sh).
# Sourced, not run. docs/development.md explains the settings; in short:
#   - base_dir = the repository root: ccache rewrites absolute paths under it to relative ones before
#     hashing, so two clones in different folders produce the same hash for the same command.
#   - hash_dir = false: with -g the compiler's working directory goes into the debug info, and ccache
#     hashes it by default, which would make every clone miss. The cost: a cached object's debug info
#     names the folder of the clone that compiled it first (gdb then needs `directory` to find sources).
#     Meson passes sources and include folders as relative paths, so __FILE__ is the same in every clone.
#   - compiler_check = content: the key includes a hash of the compiler binary, not its mtime, so an
#     upgrade of g++ or clang by apt can never serve stale objects.
# Turn it off with SENTINEL_CCACHE=0. CCACHE_DIR (default ~/.cache/ccache) and CCACHE_MAXSIZE are
# honoured as ccache documents them; the three build trees take about 0.3 GB of the default 5 GB.

sentinel_ccache_setup() {  # sets SENTINEL_CXX_GCC / SENTINEL_CXX_CLANG; exports ccache's settings
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  SENTINEL_CXX_GCC=${CXX:-g++}
  SENTINEL_CXX_CLANG=${CXX_CLANG:-clang++}
  SENTINEL_CCACHE_ON=0
  if [ "${SENTINEL_CCACHE:-1}" = 0 ] || ! command -v ccache >/dev/null 2>&1; then
    # Meson would otherwise put ccache in front of a compiler it picks itself.
    export CCACHE_DISABLE=1
    return 0
  fi
  unset CCACHE_DISABLE
  export CCACHE_BASEDIR="$root"
  export CCACHE_NOHASHDIR=1
  export CCACHE_COMPILERCHECK=content
  SENTINEL_CXX_GCC="ccache ${SENTINEL_CXX_GCC}"
  SENTINEL_CXX_CLANG="ccache ${SENTINEL_CXX_CLANG}"
  SENTINEL_CCACHE_ON=1
}

sentinel_ccache_begin() {  # sentinel_ccache_begin FILE: count this stage's hits and misses in FILE
  [ "${SENTINEL_CCACHE_ON:-0}" = 1 ] || return 0
  mkdir -p "$(dirname "$1")"
  : >"$1"
  # A stats log of our own, not `ccache -z`: the global counters are shared with every other build on
  # the machine (and are the user's), so zeroing them would lose theirs and mix in others' calls.
  export CCACHE_STATSLOG="$1"
}

sentinel_ccache_summary() {  # one line: the hits, misses and hit rate since sentinel_ccache_begin
  [ "${SENTINEL_CCACHE_ON:-0}" = 1 ] || { echo "ccache: off"; return 0; }
  [ -n "${CCACHE_STATSLOG:-}" ] && [ -f "$CCACHE_STATSLOG" ] || { echo "ccache: no stats log"; return 0; }
  awk '$0 == "direct_cache_hit" || $0 == "preprocessed_cache_hit" { hit++ }
       $0 == "cache_miss" { miss++ }
       END { t = hit + miss; printf "ccache: %d hits, %d misses (%s)\n", hit, miss,
             t ? sprintf("%.0f%% hit", 100 * hit / t) : "nothing compiled" }' "$CCACHE_STATSLOG"
}
