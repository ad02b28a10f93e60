// client_pool over HTTP/2 (h2c by prior knowledge, against nghttpd): each worker multiplexes its own
// requests on its own connection, and scaling the pool while streams are in flight loses nothing. Run
// under TSan in CI (the nghttp2 sessions are per worker: nothing of theirs may be touched by two threads).
#include <sentinel/client_pool.hpp>
#include <sentinel/config.hpp>

#include "support/certs.hpp"
#include "support/nghttpd.hpp"
#include "threads/threads_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sentinel::client_pool;
using sentinel::pool_options;
using sentinel::request;
using sentinel::response;
using sentinel::test::latch;
using sentinel::test::nghttpd;

namespace {

const std::string file_content = "served over h2c\n";

// A server with /small, or null (and a WARN saying why) when the test cannot run here.
std::unique_ptr<nghttpd> start_server() {
  if (!sentinel::http2_built) {
    WARN("skipped: HTTP/2 is not built (meson feature http2)");
    return nullptr;
  }
  if (!nghttpd::available()) {
    WARN("skipped: " << nghttpd::unavailable_reason());
    return nullptr;
  }
  auto server = std::make_unique<nghttpd>();
  sentinel::test::detail::write_file(server->htdocs() + "/small", file_content);
  return server;
}

pool_options h2c_pool(std::size_t workers) {
  pool_options o;
  o.workers = workers;
  o.client.version = sentinel::http_version::http2_prior_knowledge;
  return o;
}

// Sends `per_thread` requests from each of `threads` threads; counts what completed well, and checks that
// every request completed exactly once.
struct load {
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::atomic<int>> completions;
  latch all_done;
  std::atomic<bool> submitting{true};
  load(int threads, int per_thread)
      : completions(static_cast<std::size_t>(threads * per_thread)),
        all_done(static_cast<std::size_t>(threads * per_thread)) {}

  void run(client_pool& pool, const std::string& url, int threads, int per_thread) {
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          const std::size_t n = static_cast<std::size_t>(t * per_thread + i);
          pool.async_send(request("GET", url), [this, n](std::error_code ec, response res) {
            if (ec && failed.load() < 3) UNSCOPED_INFO("request " << n << ": " << ec.message());
            (!ec && res.status() == 200 && res.version() == 20 && res.body() == file_content ? ok : failed)
                .fetch_add(1);
            completions[n].fetch_add(1);
            all_done.count_down();
          });
        }
      });
    }
    for (auto& s : submitters)
      s.join();
    submitting = false;
  }
};

}  // namespace

TEST_CASE("client_pool over h2c: 4 workers, 400 concurrent requests, a few connections", "[threads][http2]") {
  auto server = start_server();
  if (!server) return;
  client_pool pool(h2c_pool(4));
  load l(4, 100);
  l.run(pool, server->url("/small"), 4, 100);
  REQUIRE(l.all_done.wait_for(120s));
  INFO(server->log());
  CHECK(l.ok == 400);
  CHECK(l.failed == 0);
  const auto st = pool.stats();
  CHECK(st.total.errors == 0);
  // One connection per worker, a second one only where a worker had more streams in flight than the
  // server allows on one (nghttpd: 100): never a connection per request.
  CHECK(st.total.connections_opened >= 4);
  CHECK(st.total.connections_opened <= 8);
}

TEST_CASE("client_pool over h2c: scaling while streams are in flight loses nothing", "[threads][http2]") {
  auto server = start_server();
  if (!server) return;
  client_pool pool(h2c_pool(2));
  constexpr int threads = 2, per_thread = 400;
  load l(threads, per_thread);
  std::thread submitter([&] { l.run(pool, server->url("/small"), threads, per_thread); });
  int rounds = 0;
  while (l.submitting || rounds < 10) {
    pool.scale_up(3);
    std::this_thread::sleep_for(2ms);
    pool.scale_down(2);
    std::this_thread::sleep_for(1ms);
    ++rounds;
    if (rounds > 500) break;
  }
  submitter.join();
  REQUIRE(l.all_done.wait_for(120s));
  INFO(server->log());
  CHECK(l.ok == threads * per_thread);
  CHECK(l.failed == 0);
  for (auto& c : l.completions)
    REQUIRE(c.load() == 1);
}
