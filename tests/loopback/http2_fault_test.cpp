// HTTP/2 faults over real TCP on 127.0.0.1: an in-process server of nghttp2 server sessions (the peer of
// tests/connection/h2_peer.hpp over sockets) on a thread and io_context of its own, and an http_client
// speaking h2c by prior knowledge on the test's thread. What the memory-pipe tests script frame by frame,
// here under load and through the pool: a GOAWAY every 25 requests, a connection that ends under its
// streams, a flood on one connection while another carries on.
#include "connection/h2_peer.hpp"
#include "support/client_helpers.hpp"
#include "support/run_until.hpp"

#include <sentinel/error.hpp>
#include <sentinel/http_client.hpp>

#include <asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

using sentinel::error;
using sentinel::test::h2::frame;
using sentinel::test::h2::request_seen;
using sentinel::test::h2::tcp_h2_peer;
using namespace std::chrono_literals;

namespace {

// Accepts on 127.0.0.1 and runs one peer per connection, set up by `configure(peer, n)` (n counts from
// 1). Everything of the server lives on its own thread; the test reads only `connections`.
class h2_server {
 public:
  using configure_fn = std::function<void(tcp_h2_peer&, int n)>;
  explicit h2_server(configure_fn configure)
      : configure_(std::move(configure)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~h2_server() {
    io_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::atomic<int> connections{0};

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      socket.set_option(asio::ip::tcp::no_delay(true));
      peers_.push_back(std::make_unique<tcp_h2_peer>(std::move(socket)));
      configure_(*peers_.back(), ++connections);
      asio::co_spawn(io_, peers_.back()->run(), asio::detached);
    }
  }

  configure_fn configure_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<tcp_h2_peer>> peers_;
  std::thread thread_;
};

sentinel::client_options h2c() {
  sentinel::client_options o;
  o.version = sentinel::http_version::http2_prior_knowledge;
  o.timeouts.total = std::chrono::seconds(20);  // a bound for a test gone wrong, never reached
  return o;
}

// `n` requests to `url`, `depth` at a time, on `client`: the results in order.
std::vector<std::tuple<std::error_code, sentinel::response>> send_many(asio::io_context& io,
                                                                       sentinel::http_client& client,
                                                                       const std::string& url, int n,
                                                                       int depth,
                                                                       const char* method = "GET") {
  std::vector<std::tuple<std::error_code, sentinel::response>> results(static_cast<std::size_t>(n));
  int next = 0, done = 0;
  sentinel::test::run_until(
      io,
      [&]() -> asio::awaitable<void> {
        auto worker = [&]() -> asio::awaitable<void> {
          while (next < n) {
            const auto i = static_cast<std::size_t>(next++);
            results[i] = co_await sentinel::test::fetch(client, sentinel::request(method, url));
            ++done;
          }
        };
        for (int i = 0; i < depth; ++i)
          asio::co_spawn(io, worker(), asio::detached);
        while (done < n) {
          asio::steady_timer t(io, 1ms);
          co_await t.async_wait(asio::use_awaitable);
        }
      }(),
      30s);
  return results;
}

}  // namespace

TEST_CASE("http2 over TCP: a GOAWAY every 25 answers loses no request", "[http2][loopback]") {
  // Each connection answers 25 requests, then sends GOAWAY naming the last stream it took: the streams
  // the client opened meanwhile were not processed and go again on a new connection, for any method.
  h2_server server([](tcp_h2_peer& p, int) {
    p.respond = [](const request_seen&) { return tcp_h2_peer::answer{200, "fine", {}, false, 0}; };
    p.goaway_after = 25;
    p.close_when_done = true;
  });
  asio::io_context io;
  sentinel::http_client client(io, h2c());
  const auto results = send_many(io, client, server.url("/load"), 300, 16);
  int ok = 0;
  for (const auto& [ec, res] : results) {
    INFO(ec.message());
    CHECK_FALSE(ec);
    if (!ec && res.body() == "fine") ++ok;
  }
  CHECK(ok == 300);
  // 300 answers at 25 or more per connection (a GOAWAY names what was taken, which may be more).
  CHECK(server.connections >= 2);
  CHECK(server.connections <= 12);
  CHECK(client.stats().retries > 0);  // some streams were refused by a GOAWAY and sent again
}

TEST_CASE(
    "http2 over TCP: a connection that ends under its streams fails them, typed; the next request works",
    "[http2][loopback]") {
  // The first connection takes four requests, answers none and closes. POSTs: not idempotent, so the
  // stale-connection retry (the streams after the first were on a reused connection and heard nothing)
  // does not apply, and each one fails.
  h2_server server([](tcp_h2_peer& p, int n) {
    if (n == 1) {
      p.respond = [&p](const request_seen&) {
        if (p.requests.size() == 4) p.close();
        tcp_h2_peer::answer a;
        a.silent = true;
        return a;
      };
    } else {
      p.respond = [](const request_seen&) { return tcp_h2_peer::answer{200, "fine", {}, false, 0}; };
    }
  });
  asio::io_context io;
  sentinel::http_client client(io, h2c());
  const auto start = std::chrono::steady_clock::now();
  const auto lost = send_many(io, client, server.url("/lost"), 4, 4, "POST");
  for (const auto& [ec, res] : lost) {
    INFO(ec.message());
    CHECK(ec == sentinel::condition::connection_lost);
  }
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // a bound, not a speed: no deadline waited for
  const auto after = send_many(io, client, server.url("/after"), 1, 1);
  CHECK_FALSE(std::get<0>(after[0]));
  CHECK(server.connections == 2);
}

TEST_CASE("http2 over TCP: a flood on one connection fails it alone; the other carries on",
          "[http2][loopback]") {
  // One stream per connection: two requests, two connections. The first floods its client with PINGs
  // instead of answering; the second answers after a pause, by when the flood has been dealt with.
  h2_server server([](tcp_h2_peer& p, int n) {
    p.respond = [&p, n](const request_seen&) {
      if (n == 1) {
        std::string pings;  // the session's limit or nghttp2's own on queued answers: both frame_flood
        for (int i = 0; i < 5000; ++i)
          pings += frame(6, 0, 0, std::string(8, 'p'));
        p.write_raw(pings);
        tcp_h2_peer::answer a;
        a.silent = true;
        return a;
      }
      std::this_thread::sleep_for(100ms);
      return tcp_h2_peer::answer{200, "fine", {}, false, 0};
    };
  });
  asio::io_context io;
  sentinel::client_options o = h2c();
  o.pool.max_streams_per_connection = 1;
  sentinel::http_client client(io, o);
  const auto results = send_many(io, client, server.url("/two"), 2, 2);
  int flooded = 0, fine = 0;
  for (const auto& [ec, res] : results) {
    if (ec == error::frame_flood) ++flooded;
    if (!ec && res.body() == "fine") ++fine;
  }
  CHECK(flooded == 1);
  CHECK(fine == 1);
  CHECK(server.connections == 2);
}
