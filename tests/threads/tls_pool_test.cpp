// client_pool over HTTPS: four workers, each with its own TLS context (SSL_CTX and session cache), doing
// hundreds of requests at once, new connections and resumed sessions included. Run under TSan in CI.
#include <sentinel/client_pool.hpp>

#include "client/client_access.hpp"
#include "support/certs.hpp"
#include "support/script_server.hpp"
#include "threads/threads_support.hpp"

#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sentinel::client_pool;
using sentinel::pool_options;
using sentinel::request;
using sentinel::response;
using sentinel::worker;
using sentinel::test::latch;
using sentinel::test::received_request;
using sentinel::test::script_server;

TEST_CASE("client_pool over HTTPS: 4 workers, 400 concurrent requests, all verified", "[threads][tls]") {
  const auto& certs = sentinel::test::certs();
  sentinel::test::server_options so;
  so.tls = sentinel::test::tls_options{certs.server.cert, certs.server.key, {}};
  so.record_requests = false;
  // Every fourth response closes its connection, so workers keep opening connections (and resuming
  // their sessions) while other requests run on kept-alive ones.
  script_server server(
      [](const received_request& r) {
        const bool close = r.target.size() > 2 && r.target.compare(r.target.size() - 2, 2, "/c") == 0;
        return close ? script_server::response(200, r.target, {{"Connection", "close"}})
                     : script_server::response(200, r.target);
      },
      so);

  pool_options opts;
  opts.workers = 4;
  opts.client.tls.ca_file = certs.ca.cert;
  opts.client.pool.max_per_origin = 16;
  client_pool pool(opts);

  constexpr int submitters = 4, per_submitter = 100, total = submitters * per_submitter;
  std::atomic<int> ok{0}, failed{0};
  latch all_done(total);
  std::vector<std::thread> threads;
  for (int t = 0; t < submitters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_submitter; ++i) {
        std::string path = "/" + std::to_string(t) + "/" + std::to_string(i) + (i % 4 == 3 ? "/c" : "/k");
        pool.async_send(request("GET", server.url(path)), [&, path](std::error_code ec, response res) {
          if (ec && failed.load() < 3) UNSCOPED_INFO(path << ": " << ec.message());
          (!ec && res.status() == 200 && res.body() == path ? ok : failed).fetch_add(1);
          all_done.count_down();
        });
      }
    });
  }
  for (auto& t : threads)
    t.join();
  REQUIRE(all_done.wait_for(120s));
  CHECK(ok == total);
  CHECK(failed == 0);

  const auto st = pool.stats();
  CHECK(st.total.requests == static_cast<std::uint64_t>(total));
  CHECK(st.total.errors == 0);
  // Every connection did exactly one verified handshake; the ones after a worker's first session arrived
  // resumed it.
  CHECK(st.total.tls_handshakes == st.total.connections_opened);
  CHECK(st.total.connections_opened >= static_cast<std::uint64_t>(total / 4));  // one per "/c" at least
  CHECK(st.total.tls_resumed > 0);
  CHECK(server.tls_handshake_failures() == 0);
  for (const auto& w : st.workers)
    CHECK(w.client.requests > 0);

  // One SSL_CTX per worker: four consecutive tasks land on the four workers (round robin).
  std::set<std::size_t> ids;
  std::set<const void*> contexts;
  for (int i = 0; i < 4; ++i) {
    auto f = pool.async_run(
        [](worker& w) -> asio::awaitable<std::pair<std::size_t, const void*>> {
          co_return std::make_pair(
              w.id(), static_cast<const void*>(
                          sentinel::detail::client_access::core(w.client()).tls().native().native_handle()));
        },
        asio::use_future);
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    auto [id, ctx] = f.get();
    ids.insert(id);
    contexts.insert(ctx);
  }
  CHECK(ids.size() == 4);
  CHECK(contexts.size() == 4);
}
