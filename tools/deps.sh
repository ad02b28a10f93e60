#!/usr/bin/env bash
# Installs what sentinel needs on Debian 12 (only the packages that are missing). Sourced by the other
# tools/ scripts; run directly to just install. Uses sudo when not root.
#
#   tools/deps.sh          what the build and the tests need
#   tools/deps.sh bench    that, and what `meson test --benchmark` compares sentinel with (bench/README.md):
#                          the load clients wrk, ab, h2load; Boost (Beast) and libcurl headers for the peers
#                          built from bench/loopback; linux-perf to look into a figure. Reconfigure the build
#                          afterwards (meson setup --reconfigure) so that it finds the new headers.
set -euo pipefail

SENTINEL_PACKAGES=(
  g++ clang libclang-rt-14-dev meson ninja-build pkg-config python3
  libasio-dev libssl-dev openssl zlib1g-dev libbrotli-dev libzstd-dev libnghttp2-dev nghttp2-server
  catch2 libhttp-parser-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  nginx wrk time curl
)
SENTINEL_BENCH_PACKAGES=(
  nginx wrk apache2-utils nghttp2-client util-linux
  libboost-dev libcurl4-openssl-dev
  linux-perf
)

sentinel_install_deps() {  # [extra packages...]
  local missing=()
  for p in "${SENTINEL_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The nginx package starts a system nginx on port 80; the tests run their own, so stop it.
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  $sudo service nginx stop >/dev/null 2>&1 || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    "") sentinel_install_deps ;;
    bench) sentinel_install_deps "${SENTINEL_BENCH_PACKAGES[@]}" ;;
    *) echo "usage: $0 [bench]" >&2; exit 2 ;;
  esac
fi
