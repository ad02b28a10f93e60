// HTTP/1 exchanges over the in-memory stream (the transport seam): every split point of a response,
// and a fail-after-N-bytes sweep over a whole exchange in both directions, asserting a typed error, no
// hang, no leaked connection or timer, and a healthy client afterwards. No socket, no thread.
#include <sentinel/http_client.hpp>

#include "connection/memory_peer.hpp"
#include "support/client_helpers.hpp"
#include "support/run_until.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using sentinel::condition;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::memory_peer;
using sentinel::test::memory_server;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::use_tuple;

namespace {

struct response_case {
  const char* name;
  std::string bytes;
  int status;
  std::string body;
  std::string trailer;  // "name: value" of the one trailer, or empty
  bool until_close = false;
};

std::vector<response_case> cases() {
  return {
      {"content-length",
       "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world",
       200,
       "hello world",
       {}},
      {"chunked with extension and trailer",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: "
       "done\r\n\r\n",
       200, "hello world", "X-T: done"},
      {"100 Continue, then the response",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
       201,
       "ok",
       {}},
      {"204 without body", "HTTP/1.1 204 No Content\r\nX-B: 2\r\n\r\n", 204, "", {}},
      {"until close", "HTTP/1.0 200 OK\r\n\r\nbody until the end", 200, "body until the end", {}, true},
  };
}

// Serves each request with `c.bytes` split after as many bytes as the request's target says.
sentinel::test::memory_script split_server(const response_case& c) {
  return [c](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    for (;;) {
      // (No co_await inside a condition in these scripts: g++ 12 miscompiles some of those.)
      const bool got = co_await p.read_request(req);
      if (!got) co_return;
      const std::size_t k = std::stoul(req.target.substr(1));
      const bool first = co_await p.write(std::string_view(c.bytes).substr(0, k));
      if (!first) co_return;
      co_await memory_peer::yield();  // the client reads the first part on its own
      const bool rest = co_await p.write(std::string_view(c.bytes).substr(k));
      if (!rest) co_return;
      if (c.until_close) {
        p.stream().shutdown_send();
        co_return;
      }
    }
  };
}

}  // namespace

TEST_CASE("every response, split at every byte, parses the same over the memory stream", "[connection]") {
  for (const auto& c : cases()) {
    INFO(c.name);
    asio::io_context ctx;
    http_client client(ctx);
    memory_server server;
    server.scripts.push_back(split_server(c));
    server.attach(client);
    run_until(
        ctx,
        [&]() -> asio::awaitable<void> {
          for (std::size_t k = 1; k < c.bytes.size(); ++k) {
            INFO("split after " << k);
            auto [ec, res] =
                co_await client.async_send(request("GET", "http://mem.test/" + std::to_string(k)), use_tuple);
            REQUIRE_FALSE(ec);
            CHECK(res.status() == c.status);
            CHECK(res.body() == c.body);
            if (!c.trailer.empty()) CHECK(res.trailers().get("X-T").value_or("") == "done");
          }
        }(),
        60s);
    // Keep-alive responses share one connection; until-close ones need one each.
    CHECK(server.opened == (c.until_close ? c.bytes.size() - 1 : 1));
  }
}

namespace {

constexpr std::string_view small_response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

// Answers every request on the connection with small_response.
sentinel::test::memory_script answer_all() {
  return [](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    for (;;) {
      const bool got = co_await p.read_request(req);
      if (!got) co_return;
      const bool sent = co_await p.write(small_response);
      if (!sent) co_return;
    }
  };
}

// One exchange on a fresh client whose connection end gets `fault`; then a healthy request on the same
// client. Returns the first exchange's error.
std::error_code exchange_with_fault(std::function<void(sentinel::test::memory_stream&)> fault,
                                    std::size_t& request_bytes) {
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.timeouts.response_head = 5s;
  http_client client(ctx, opts);
  memory_server server;
  server.scripts.push_back(answer_all());
  server.attach(client);
  std::error_code first;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    server.on_open = fault;
    auto [ec, res] =
        co_await client.async_send(request("POST", "http://mem.test/up", {}, "payload"), use_tuple);
    first = ec;
    request_bytes = server.client_ends.front().bytes_written();
    if (!ec) CHECK(res.body() == "hello");
    server.on_open = nullptr;
    // No leak: the broken connection is gone, and the client works on a new one.
    CHECK(client.stats().open_connections == (ec ? 0u : 1u));
    auto [ec2, res2] = co_await client.async_send(request("GET", "http://mem.test/after"), use_tuple);
    CHECK_FALSE(ec2);
    CHECK(res2.body() == "hello");
  }());
  client.shutdown();
  // Nothing left behind: no timer, no half-done operation keeps the context busy.
  ctx.restart();
  ctx.run_for(2s);
  CHECK(ctx.stopped());
  return first;
}

}  // namespace

TEST_CASE("a fault after every number of bytes fails the exchange cleanly, in both directions",
          "[connection]") {
  std::size_t request_len = 0;
  REQUIRE_FALSE(exchange_with_fault(nullptr, request_len));
  REQUIRE(request_len > 0);

  SECTION("the client's writes fail after N bytes") {
    for (std::size_t n = 0; n <= request_len; ++n) {
      INFO("writes fail after " << n << " of " << request_len << " bytes");
      std::size_t unused = 0;
      const auto ec = exchange_with_fault(
          [n](sentinel::test::memory_stream& s) { s.fail_writes_after(n, asio::error::broken_pipe); },
          unused);
      if (n < request_len) {
        CHECK(ec == asio::error::broken_pipe);
      } else {
        CHECK_FALSE(ec);  // the whole request went out
      }
    }
  }
  SECTION("the client's reads fail after N bytes of the response") {
    for (std::size_t n = 0; n <= small_response.size(); ++n) {
      INFO("reads fail after " << n << " of " << small_response.size() << " bytes");
      std::size_t unused = 0;
      const auto ec = exchange_with_fault(
          [n](sentinel::test::memory_stream& s) { s.fail_reads_after(n, asio::error::connection_reset); },
          unused);
      if (n < small_response.size()) {
        CHECK(ec == condition::connection_lost);
      } else {
        CHECK_FALSE(ec);  // the whole response arrived before the failure
      }
    }
  }
}

TEST_CASE("deadlines fire over the memory stream", "[connection]") {
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.timeouts.response_head = 100ms;
  opts.timeouts.idle_read = 100ms;
  http_client client(ctx, opts);
  memory_server server;
  server.scripts.push_back([](memory_peer& p) -> asio::awaitable<void> {
    received_request req;
    const bool got = co_await p.read_request(req);
    if (!got) co_return;
    if (req.target == "/drip") {  // the head, then the body stalls
      co_await p.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    }
    co_await p.wait_for_close();
  });
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto [ec, res] = co_await client.async_send(request("GET", "http://mem.test/silent"), use_tuple);
    CHECK(ec == error::response_timeout);
    auto [ec2, res2] = co_await client.async_send(request("GET", "http://mem.test/drip"), use_tuple);
    CHECK(ec2 == error::idle_timeout);
  }());
  CHECK(client.stats().open_connections == 0);
}

TEST_CASE("an early answer while the body is blocked: returned, the upload stopped", "[connection]") {
  enum class then { close, reset, keep_reading, stall };
  for (then next : {then::close, then::reset, then::keep_reading, then::stall}) {
    for (int kind = 0; kind < 2; ++kind) {  // 0: in memory, 1: from a source
      INFO("server then " << static_cast<int>(next) << ", body kind " << kind);
      asio::io_context ctx;
      http_client client(ctx);
      memory_server server;
      server.on_open = [](sentinel::test::memory_stream& s) { s.set_send_capacity(64 * 1024); };
      server.scripts.push_back([next](memory_peer& p) -> asio::awaitable<void> {
        received_request req;
        const bool got = co_await p.read_head(req);
        if (!got) co_return;
        const bool sent =
            co_await p.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 7\r\n\r\ntoo big");
        if (!sent) co_return;
        if (next == then::close) p.stream().close();
        if (next == then::reset) p.stream().reset();
        if (next == then::keep_reading) co_await p.drain();
        if (next == then::stall) co_await memory_peer::sleep(200ms);
      });
      server.scripts.push_back([](memory_peer& p) -> asio::awaitable<void> {
        received_request req;
        const bool got = co_await p.read_request(req);
        if (got) co_await p.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
        co_await p.wait_for_close();
      });
      server.attach(client);
      run_until(ctx, [&]() -> asio::awaitable<void> {
        request up("POST", "http://mem.test/up");
        constexpr std::size_t size = 4u << 20;
        if (kind == 0) {
          up.set_body(std::string(size, 'm'));
        } else {
          auto left = std::make_shared<std::size_t>(size);
          up.set_body_source([left](std::span<char> buf) -> asio::awaitable<std::size_t> {
            const std::size_t n = std::min(buf.size(), *left);
            *left -= n;
            co_return n;
          });
        }
        auto [ec, res] = co_await client.async_send(std::move(up), use_tuple);
        INFO(ec.message());
        REQUIRE_FALSE(ec);
        CHECK(res.status() == 413);
        CHECK(res.body() == "too big");
        // Far less than the body went out: the upload stopped when the answer was complete.
        CHECK(server.client_ends.front().bytes_written() < size / 2);
        auto [ec2, res2] = co_await client.async_send(request("GET", "http://mem.test/next"), use_tuple);
        CHECK_FALSE(ec2);
        CHECK(res2.body() == "next");
      }());
      CHECK(server.opened == 2);  // the cut-short connection was not reused
    }
  }
}

TEST_CASE("negotiation: the protocol the server chose is read, and one never offered is a typed error",
          "[connection][alpn]") {
  // http/1.1 (offered) and none at all (plain TCP, or a server without ALPN) both mean HTTP/1.1.
  for (const char* chosen : {"http/1.1", ""}) {
    INFO("server chose \"" << chosen << '"');
    asio::io_context ctx;
    http_client client(ctx);
    memory_server server;
    server.scripts.push_back(answer_all());
    server.alpn = chosen;
    server.attach(client);
    run_until(ctx, [&]() -> asio::awaitable<void> {
      auto [ec, res] = co_await client.async_send(request("GET", "http://mem.test/a"), use_tuple);
      CHECK_FALSE(ec);
      CHECK(res.body() == "hello");
    }());
  }
  // Not offered: the connection is closed before a byte of the request goes out.
  asio::io_context ctx;
  http_client client(ctx);
  memory_server server;
  server.scripts.push_back(answer_all());
  server.alpn = "spdy/3";
  server.attach(client);
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto [ec, res] = co_await client.async_send(request("GET", "http://mem.test/b"), use_tuple);
    CHECK(ec == error::alpn_mismatch);
    CHECK(ec == condition::tls);
    CHECK(res.info().failure.phase == sentinel::phase::tls);
    REQUIRE(server.opened == 1);
    CHECK(server.client_ends.back().bytes_written() == 0);
    CHECK_FALSE(server.client_ends.back().is_open());
    CHECK(client.stats().open_connections == 0);
  }());
}
