#!/usr/bin/env bash
# bench/loopback/run.sh -- sentinel_peer against wrk (and the other peers that can be built here) on the
# shared peers harness (shared/peers/run_peers.sh): same pinned nginx, same scenarios, same run.
#
#   run.sh PATH/TO/sentinel_peer [OUT_DIR]
#
# Environment:
#   REPS=1                  repetitions per (scenario, peer); the table shows medians
#   SCENARIOS=hello_c64,4k_c64,1m_c64,chunked4k_c64   (SENTINEL_BENCH_QUICK=1: hello_c64 only)
#   PEERS_DIR=...           the harness (default: ../shared/peers beside the repository, /work/shared/peers)
#   ONLY_PEERS=...          override the peer list (default: wrk, every native peer that built, sentinel)
#   QUIET_MAX_S=3 RUN_TIMEOUT=90   passed to the harness (bounded waits)
#   KEEP_TMP=1              keep the temp copy of the harness (raw outputs)
#   BUDGET_S=540            hard limit for the whole harness run
# Exit: 0 ok, 1 sentinel's runs had errors or the harness failed, 77 skipped (nginx, wrk or the harness
# missing): meson reports 77 as SKIP.
set -uo pipefail

skip() { echo "SKIP: $*"; exit 77; }
[[ $# -ge 1 ]] || { echo "usage: $0 sentinel_peer [out_dir]" >&2; exit 2; }
PEER=$(realpath "$1")
mkdir -p "${2:-$PWD}"
OUT=$(realpath "${2:-$PWD}")
HERE=$(cd "$(dirname "$0")" && pwd)
[[ -x $PEER ]] || { echo "not executable: $PEER" >&2; exit 2; }

command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || skip "nginx is not installed (apt-get install nginx)"
command -v wrk >/dev/null 2>&1 || skip "wrk is not installed (apt-get install wrk)"
for t in taskset timeout curl; do command -v $t >/dev/null 2>&1 || skip "$t is not installed (the harness needs it)"; done
[[ -x /usr/bin/time ]] || skip "/usr/bin/time is not installed (apt-get install time)"
[[ $(nproc) -ge 2 ]] || skip "the harness pins nginx and the client to two different CPUs; this machine has $(nproc)"
export PATH=$PATH:/usr/sbin

SRC=""
for d in "${PEERS_DIR:-}" "$HERE/../../../shared/peers" /work/shared/peers; do
    [[ -n $d && -f $d/run_peers.sh && -f $d/nginx_ctl.sh ]] && { SRC=$(cd "$d" && pwd); break; }
done
[[ -n $SRC ]] || skip "the peers harness (shared/peers/run_peers.sh) was not found; set PEERS_DIR"

TMP=$(mktemp -d /tmp/sentinel-loopback-XXXXXX)
chmod 755 "$TMP"  # mktemp makes it 0700: nginx's worker (user nobody) could not read /4k, /1m, /chunked
cleanup() {
    [[ -x $TMP/peers/nginx_ctl.sh ]] && NGX_PREFIX=$TMP/nginx "$TMP/peers/nginx_ctl.sh" stop >/dev/null 2>&1
    if [[ -n ${KEEP_TMP:-} ]]; then echo "kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$TMP/peers"
cp -r "$SRC"/. "$TMP/peers/"
rm -rf "$TMP/peers/build" "$TMP/peers/out" "$TMP/peers"/results-*.md
chmod -R u+w "$TMP/peers"

# The harness's build.sh builds every hand-written peer and fails when one dev package is missing. Build
# only those whose headers are here (in parallel, cached in OUT_DIR/peers-build across runs: Beast takes a
# minute to compile); run_peers.sh then finds them in place.
cd "$TMP/peers" || exit 1
CACHE=$OUT/peers-build
mkdir -p build "$CACHE"
FLAGS="-std=c++20 -O2 -g0 -Wall -Wextra -Wno-unused-parameter"
native=()
build_peer() {  # name binary source extra-flags...
    local name=$1 bin=$2 src=$3; shift 3
    if [[ ! ( $CACHE/$bin -nt src/$src && $CACHE/$bin -nt src/common.hpp ) ]]; then
        g++ $FLAGS "src/$src" -o "$CACHE/$bin" "$@" || { echo "note: $name did not build"; return 1; }
    fi
    cp "$CACHE/$bin" "build/$bin"
}
pids=() names=()
if [[ -f /usr/include/boost/beast.hpp ]]; then
    build_peer beast_coro beast_coro beast_coro.cpp -pthread & pids+=($!); names+=(beast_coro)
    build_peer beast_buf64k beast_coro_buf64k beast_coro.cpp -DBEAST_READ_RESERVE=65536 -pthread & pids+=($!); names+=(beast_buf64k)
else
    echo "note: Boost.Beast headers missing (libboost-dev): no beast peers"
fi
if pkg-config --exists libcurl 2>/dev/null; then
    build_peer curl_multi curl_multi curl_multi.cpp $(pkg-config --cflags --libs libcurl) & pids+=($!); names+=(curl_multi)
else
    echo "note: libcurl dev files missing (libcurl4-openssl-dev): no curl_multi peer"
fi
if pkg-config --exists cpp-httplib 2>/dev/null; then
    build_peer httplib httplib_threads httplib_threads.cpp $(pkg-config --cflags --libs cpp-httplib) -pthread & pids+=($!); names+=(httplib)
else
    echo "note: cpp-httplib dev files missing (libcpp-httplib-dev): no httplib peer"
fi
for i in "${!pids[@]}"; do wait "${pids[$i]}" && native+=("${names[$i]}"); done
printf '#!/usr/bin/env bash\nexit 0  # peers were built by sentinel bench/loopback/run.sh\n' > build.sh

tools=(wrk)
for t in h2load hey ab; do command -v $t >/dev/null 2>&1 && tools+=("$t"); done
DEFAULT_PEERS=$(IFS=,; echo "${tools[*]}${native[*]:+,${native[*]}},sentinel" | tr ' ' ',')

# A private port and prefix, so that another harness run on this machine does not collide with ours.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
       || echo $((20000 + RANDOM % 20000)))

export PORT NGX_PORT=$PORT NGX_PREFIX=$TMP/nginx
export REPS=${REPS:-1}
default_scen=hello_c64,4k_c64,1m_c64,chunked4k_c64
[[ -n ${SENTINEL_BENCH_QUICK:-} && ${SENTINEL_BENCH_QUICK} != 0 ]] && default_scen=hello_c64  # smoke run
export ONLY_SCEN=${SCENARIOS:-$default_scen}
export ONLY_PEERS=${ONLY_PEERS:-$DEFAULT_PEERS}
export QUIET_MAX_S=${QUIET_MAX_S:-3} RUN_TIMEOUT=${RUN_TIMEOUT:-90}
export EXTRA_PEERS="sentinel native $PEER"
export OUTDIR=$TMP/out REPORT=$TMP/report.md KEEP_REPORT_NAME=1

echo "loopback: peers=$ONLY_PEERS scenarios=$ONLY_SCEN reps=$REPS port=$PORT (harness: $SRC)"
echo "          load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
# A hard budget for the whole harness run (meson's timeout for this benchmark is 600 s).
timeout -k 10 "${BUDGET_S:-540}" ./run_peers.sh > "$TMP/harness.out" 2> "$TMP/harness.log"
rc=$?
[[ $rc -eq 124 ]] && echo "the harness ran out of its ${BUDGET_S:-540} s budget (machine too busy?)"
echo "          took $(( $(date +%s) - start )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $rc -ne 0 || ! -s $OUTDIR/summary.txt ]]; then
    echo "harness failed (exit $rc):"; tail -30 "$TMP/harness.out" "$TMP/harness.log"; exit 1
fi

cp "$OUTDIR/summary.txt" "$OUT/loopback-summary.txt"
cp "$OUTDIR/runs.tsv" "$OUT/loopback-runs.tsv"
[[ -f $REPORT ]] && cp "$REPORT" "$OUT/loopback-report.md"

# JSON: one object per (scenario, tool) row of the summary table.
awk -v date="$(date -Is)" -v reps="$REPS" -v cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" '
    BEGIN { printf "{\"benchmark\":\"loopback\",\"question\":\"req/s of sentinel_peer vs wrk and other HTTP/1.1 clients against the same pinned nginx, same run (x_ref = rps / wrk rps)\",\"date\":\"%s\",\"cpu\":\"%s\",\"reps\":%d,\"rows\":[", date, cpu, reps }
    /^scenario / { t = 1; next }
    t && NF >= 15 && $3 != "n/a" {
        printf "%s{\"scenario\":\"%s\",\"tool\":\"%s\",\"rps\":%s,\"x_ref\":\"%s\",\"p50_us\":\"%s\",\"p99_us\":\"%s\",\"rss_kib\":\"%s\",\"cpu_us_per_req\":\"%s\",\"errors\":%s,\"valid\":\"%s\"}", sep, $1, $2, $3, $4, $5, $6, $7, $10, $14, $15
        sep = ","
    }
    t && NF == 0 { t = 0 }
    END { print "]}" }' "$OUTDIR/summary.txt" > "$OUT/loopback.json"

echo
cat "$OUTDIR/summary.txt"
echo
echo "sentinel vs wrk (x_ref) and vs the best native peer, client CPU us per request:"
awk '/^scenario /{t=1; next} t && NF==0 {t=0}
     t && NF >= 15 { rps[$1,$2]=$3; x[$1,$2]=$4; cpu[$1,$2]=$10; if (!($1 in seen)) { seen[$1]=1; order[++n]=$1 } tools[$1]=tools[$1] " " $2 }
     END { for (i=1;i<=n;i++) { s=order[i]; printf "  %-16s sentinel %8s req/s  x_wrk %5s  cpu/req %7s us", s, rps[s,"sentinel"], x[s,"sentinel"], cpu[s,"sentinel"]
             split(tools[s], tt, " "); for (k in tt) if (tt[k] ~ /beast|curl|httplib/) printf "  | %s %s us", tt[k], cpu[s,tt[k]]
             printf "\n" } }' "$OUTDIR/summary.txt"
echo "json: $OUT/loopback.json"

if grep -E '^[^ ]+ +sentinel ' "$OUTDIR/summary.txt" | grep -q INVALID; then
    echo "sentinel had errors (INVALID rows above)"; exit 1
fi
exit 0
