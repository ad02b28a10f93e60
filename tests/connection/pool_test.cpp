// The per-client pool over the in-memory stream: reuse, the stale-connection retry rule, FIFO waiting
// at the origin's cap, and leases that come back on every path.
#include <sentinel/http_client.hpp>

#include "connection/memory_peer.hpp"
#include "support/client_helpers.hpp"
#include "support/run_until.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::test::memory_peer;
using sentinel::test::memory_server;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::use_tuple;

namespace {

std::string ok(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// Answers every request with its target as the body, `limit` requests at most, then closes.
sentinel::test::memory_script echo(std::size_t limit = 1000) {
  return [limit](memory_peer& p) -> asio::awaitable<void> {
    // (No co_await inside a condition in these scripts: g++ 12 miscompiles some of those.)
    received_request req;
    for (std::size_t i = 0; i < limit; ++i) {
      const bool got = co_await p.read_request(req);
      if (!got) break;
      const bool sent = co_await p.write(ok(req.target));
      if (!sent) co_return;
    }
    p.stream().close();
  };
}

}  // namespace

TEST_CASE("pool: keep-alive reuse over one connection", "[pool]") {
  asio::io_context ctx;
  http_client client(ctx);
  memory_server server;
  server.scripts.push_back(echo());
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      auto res = co_await client.send(request("GET", "http://mem.test/" + std::to_string(i)));
      CHECK(res.body() == "/" + std::to_string(i));
      CHECK(res.info().reused_connection == (i > 0));
    }
  }());
  CHECK(server.opened == 1);
  CHECK(client.stats().connections_reused == 4);
}

TEST_CASE("pool: a connection closed while idle is dropped before use, never retried", "[pool]") {
  asio::io_context ctx;
  http_client client(ctx);
  memory_server server;
  server.scripts.push_back(echo(1));  // one answer, then the server closes the idle connection
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    // (Results are named before CHECK: a co_await inside Catch's expression templates miscompiles on g++ 12.)
    auto a = co_await client.send(request("GET", "http://mem.test/a"));
    CHECK(a.body() == "/a");
    co_await memory_peer::yield();  // the close reaches the idle connection
    auto b = co_await client.send(request("GET", "http://mem.test/b"));
    CHECK(b.body() == "/b");
  }());
  CHECK(server.opened == 2);
  CHECK(client.stats().retries == 0);  // the idle check caught it: nothing was sent on it
}

TEST_CASE("pool: a reused connection that dies before any response byte is retried once", "[pool]") {
  asio::io_context ctx;
  http_client client(ctx);
  memory_server server;
  // Connection 1 answers one request, takes the second and closes without a byte (a keep-alive race).
  server.scripts.push_back([](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    bool got = co_await p.read_request(req);
    if (got) co_await p.write(ok("first"));
    got = co_await p.read_request(req);
    p.stream().close();  // with the second request unanswered
  });
  server.scripts.push_back(echo());
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto first = co_await client.send(request("GET", "http://mem.test/1"));
    CHECK(first.body() == "first");
    auto res = co_await client.send(request("GET", "http://mem.test/2"));
    CHECK(res.body() == "/2");
    CHECK(res.info().retries == 1);
  }());
  CHECK(server.opened == 2);
  CHECK(client.stats().retries == 1);
}

TEST_CASE("pool: a truncated reply on a fresh connection fails, it is not retried", "[pool]") {
  asio::io_context ctx;
  http_client client(ctx);
  memory_server server;
  server.scripts.push_back([](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    const bool got = co_await p.read_request(req);
    if (got) co_await p.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    p.stream().close();
  });
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto [ec, res] = co_await client.async_send(request("GET", "http://mem.test/t"), use_tuple);
    CHECK(ec == error::unexpected_eof);
  }());
  CHECK(server.opened == 1);
  CHECK(client.stats().retries == 0);
  CHECK(client.stats().open_connections == 0);
}

TEST_CASE("pool: at the origin's cap requests wait in order and share the connection", "[pool]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.pool.max_per_origin = 1;
  http_client client(ctx, opts);
  memory_server server;
  std::vector<std::string> order;
  server.scripts.push_back([&order](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    for (;;) {
      const bool got = co_await p.read_request(req);
      if (!got) co_return;
      order.push_back(req.target);
      co_await memory_peer::sleep(5ms);
      const bool sent = co_await p.write(ok(req.target));
      if (!sent) co_return;
    }
  });
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto one = [&](std::string path) -> asio::awaitable<std::string> {
      auto [ec, res] = co_await client.async_send(request("GET", "http://mem.test" + path), use_tuple);
      co_return ec ? ec.message() : res.body();
    };
    auto [a, b, c] = co_await (one("/a") && one("/b") && one("/c"));
    CHECK(a == "/a");
    CHECK(b == "/b");
    CHECK(c == "/c");
  }());
  CHECK(server.opened == 1);
  CHECK(order == std::vector<std::string>{"/a", "/b", "/c"});
}

TEST_CASE("pool: a lease comes back when the exchange is cancelled", "[pool]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.pool.max_per_origin = 1;
  opts.timeouts.pool_acquire = 1s;
  http_client client(ctx, opts);
  memory_server server;
  server.scripts.push_back([](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    const bool got = co_await p.read_request(req);
    if (got) co_await p.wait_for_close();  // never answers
  });
  server.scripts.push_back(echo());
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(ctx, 20ms);
    auto r = co_await (client.async_send(request("GET", "http://mem.test/stall"), use_tuple) ||
                       t.async_wait(use_tuple));
    CHECK(r.index() == 1);  // the timer won: the exchange was cancelled (terminal)
    // The slot (cap 1) is free again: this does not wait for pool_timeout.
    auto res = co_await client.send(request("GET", "http://mem.test/next"));
    CHECK(res.body() == "/next");
  }());
  CHECK(server.opened == 2);
}
