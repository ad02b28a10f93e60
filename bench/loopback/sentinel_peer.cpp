// sentinel as a "native" peer of the shared peers harness (shared/peers/run_peers.sh), same contract as
// shared/peers/src/common.hpp:
//
//   sentinel_peer URL CONNS TOTAL_REQUESTS EXPECT_BODY_LEN [RATE_PER_SEC]
//   -> RESULT requests=N ok=N errors=N seconds=S rps=R p50_us=P p99_us=Q
//
// Shape (the same as the Beast peer it is compared with): one thread, one io_context, one http_client
// (connection pool max_per_origin = CONNS); CONNS coroutines each send their share of TOTAL_REQUESTS one
// after another over keep-alive. A request is OK when it completed without error with status 200 and
// a body of EXPECT_BODY_LEN bytes (-1: any). RATE paces each coroutine at CONNS/RATE s per request.
//
// The harness's common.hpp is not included (it lives outside this repository); this file re-implements
// the same contract: argument split, 1-us latency histogram in .bss, RESULT line.
#include <sentinel/http_client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using clock_type = std::chrono::steady_clock;

// 1 us buckets up to ~4.2 s. In .bss: only the pages hit count toward RSS, as in the harness's peers.
constexpr std::size_t buckets = 1u << 22;
std::uint32_t hist[buckets];

void record_us(std::uint64_t us) {
  ++hist[us < buckets ? us : buckets - 1];
}

std::uint64_t percentile_us(double p) {
  std::uint64_t n = 0;
  for (auto b : hist)
    n += b;
  if (n == 0) return 0;
  auto target = static_cast<std::uint64_t>(p * static_cast<double>(n));
  if (target >= n) target = n - 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    seen += hist[i];
    if (seen > target) return i;
  }
  return buckets - 1;
}

struct args {
  std::string url;
  long conns = 0;
  long total = 0;
  long expect_len = -1;
  double rate = 0;
  long quota(long worker) const { return total / conns + (worker < total % conns ? 1 : 0); }
};

std::uint64_t g_done = 0, g_ok = 0, g_err = 0;

asio::awaitable<void> loop(sentinel::http_client& client, const sentinel::request& proto, const args& a,
                           long quota, std::chrono::nanoseconds interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next = clock_type::now();
  for (long i = 0; i < quota; ++i) {
    if (interval.count() > 0) {
      next += interval;
      timer.expires_at(next);
      co_await timer.async_wait(asio::use_awaitable);
    }
    sentinel::request req = proto;
    const auto t0 = clock_type::now();
    auto [ec, res] =
        co_await client.async_send(std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
    record_us(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0).count()));
    ++g_done;
    if (!ec && res.status() == 200 &&
        (a.expect_len < 0 || static_cast<long>(res.body().size()) == a.expect_len)) {
      ++g_ok;
    } else {
      if (g_err++ == 0)
        std::fprintf(stderr, "first error: %s (status %d, %zu body bytes)\n",
                     ec ? ec.message().c_str() : "none", res.status(), res.body().size());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s URL CONNS TOTAL_REQUESTS EXPECT_BODY_LEN [RATE]\n", argv[0]);
    return 2;
  }
  args a;
  a.url = argv[1];
  a.conns = std::atol(argv[2]);
  a.total = std::atol(argv[3]);
  a.expect_len = std::atol(argv[4]);
  if (argc > 5) a.rate = std::atof(argv[5]);
  if (a.conns < 1 || a.total < a.conns) {
    std::fprintf(stderr, "need TOTAL >= CONNS >= 1\n");
    return 2;
  }

  asio::io_context ctx{1};
  sentinel::client_options opts;
  opts.pool.max_per_origin = static_cast<std::size_t>(a.conns);
  sentinel::http_client client(ctx, opts);
  sentinel::request proto;
  try {
    proto = sentinel::request("GET", a.url);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bad URL %s: %s\n", a.url.c_str(), e.what());
    return 2;
  }
  std::chrono::nanoseconds interval{0};
  if (a.rate > 0)
    interval = std::chrono::nanoseconds(static_cast<long long>(1e9 * static_cast<double>(a.conns) / a.rate));

  const auto t0 = clock_type::now();
  for (long w = 0; w < a.conns; ++w)
    asio::co_spawn(ctx, loop(client, proto, a, a.quota(w), interval), asio::detached);
  ctx.run();
  const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("RESULT requests=%llu ok=%llu errors=%llu seconds=%.3f rps=%.0f p50_us=%llu p99_us=%llu\n",
              static_cast<unsigned long long>(g_done), static_cast<unsigned long long>(g_ok),
              static_cast<unsigned long long>(g_err), secs, secs > 0 ? static_cast<double>(g_ok) / secs : 0.0,
              static_cast<unsigned long long>(percentile_us(0.50)),
              static_cast<unsigned long long>(percentile_us(0.99)));
  std::fflush(stdout);
  return g_err ? 1 : 0;
}
