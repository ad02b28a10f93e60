// The HTTP/2 session over the in-memory stream, against a scripted peer built on nghttp2's server session:
// exchanges multiplexed on one connection, request bodies, large responses through the flow-control
// windows, trailers, 1xx skipped, a stream reset by the server while the others continue, a refused
// stream reported as not processed, and the server's concurrent-stream limit as the session's capacity.
// Then through an http_client: the version option, negotiation and one connection for many requests.
// No socket, no thread.
#include "client/client_access.hpp"
#include "h2_peer.hpp"
#include "support/client_helpers.hpp"
#include "support/memory_stream.hpp"
#include "support/run_until.hpp"
#include "transport/context.hpp"
#include "transport/link.hpp"

#include <nghttp2/nghttp2.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sentinel::test::run_until;
namespace d = sentinel::detail;

using namespace sentinel::test::h2;

TEST_CASE("http2: exchanges multiplexed on one connection, with bodies both ways", "[http2]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) { return h2_peer::answer{200, echo_of(r), {}, false, 0}; };
  f.start_peer();
  std::vector<fixture::result> results(3);
  std::size_t done = 0;
  run_until(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            results[i] =
                co_await f.send(i == 2 ? "POST" : "GET", "/r" + std::to_string(i), i == 2 ? "data" : "");
            ++done;
          },
          asio::detached);
    }
    while (done < 3) {
      asio::steady_timer t(ex, 1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  }());
  for (int i = 0; i < 3; ++i) {
    INFO("request " << i);
    CHECK_FALSE(results[i].out.ec);
    CHECK(results[i].res.status() == 200);
    CHECK(results[i].res.version() == 20);
    CHECK(results[i].res.headers().get("content-length").has_value());
  }
  CHECK(results[0].body == "GET /r0 ");
  CHECK(results[1].body == "GET /r1 ");
  CHECK(results[2].body == "POST /r2 data");
  // What went on the wire: pseudo-headers from the request, lower-case names, no connection-specific field.
  REQUIRE(f.peer->requests.size() == 3);
  const auto& seen = f.peer->requests.begin()->second.fields;
  CHECK(seen.at(":scheme") == "http");
  CHECK(seen.at(":authority") == "h2.test");
  CHECK(seen.at("x-test") == "yes");
  CHECK(seen.at("user-agent") == "sentinel-test");
  CHECK(seen.count("connection") == 0);
  CHECK(seen.count("host") == 0);
  CHECK(f.conn->active() == 0);
  CHECK(f.conn->reusable());
}

TEST_CASE("http2: a 4 MiB response passes the flow-control windows; trailers and 100 Continue", "[http2]") {
  fixture f;
  const std::string big(4 * 1024 * 1024, 'x');
  f.peer->respond = [&](const request_seen& r) {
    if (r.fields.at(":path") == "/big") return h2_peer::answer{200, big, {}, false, 0};
    return h2_peer::answer{201, "t", {{"x-checksum", "abc"}}, true, 0};
  };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto big_r = co_await f.send("GET", "/big");
    CHECK_FALSE(big_r.out.ec);
    CHECK(big_r.body.size() == big.size());
    CHECK(big_r.out.bytes_received == big.size());
    const auto t = co_await f.send("GET", "/trailers");
    CHECK_FALSE(t.out.ec);
    CHECK(t.res.status() == 201);  // the 100 before it was skipped
    CHECK(t.body == "t");
    CHECK(t.res.trailers().get("x-checksum") == std::optional<std::string_view>("abc"));
  }());
}

TEST_CASE("http2: a reset stream fails alone; a refused one is reported as not processed", "[http2]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    const std::string& path = r.fields.at(":path");
    if (path == "/reset") return h2_peer::answer{0, {}, {}, false, NGHTTP2_INTERNAL_ERROR};
    if (path == "/refused") return h2_peer::answer{0, {}, {}, false, NGHTTP2_REFUSED_STREAM};
    return h2_peer::answer{200, "fine", {}, false, 0};
  };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto reset = co_await f.send("GET", "/reset");
    CHECK(reset.out.ec == sentinel::error::stream_reset);  // typed, with the code the server sent
    CHECK(reset.out.ec == sentinel::condition::connection_lost);
    CHECK(reset.out.http2_error == NGHTTP2_INTERNAL_ERROR);
    CHECK_FALSE(reset.out.not_processed);
    CHECK_FALSE(reset.out.refused);
    const auto refused = co_await f.send("GET", "/refused");
    CHECK(refused.out.ec == sentinel::error::stream_refused);
    CHECK(refused.out.not_processed);
    CHECK(refused.out.refused);                        // the server said so: safe for any method
    const auto after = co_await f.send("GET", "/ok");  // the connection lives on
    CHECK_FALSE(after.out.ec);
    CHECK(after.body == "fine");
  }());
  CHECK(f.conn->reusable());
}

TEST_CASE("http2: the server's concurrent-stream limit is the session's capacity", "[http2]") {
  fixture f;
  f.peer->max_streams = 8;
  f.peer->respond = [](const request_seen&) { return h2_peer::answer{204, {}, {}, false, 0}; };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto r = co_await f.send("GET", "/");
    CHECK_FALSE(r.out.ec);
    CHECK(r.res.status() == 204);
  }());
  CHECK(f.conn->capacity() == 8);
}

TEST_CASE("http2: a stream's deadlines and body limit end that stream alone", "[http2]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    const std::string& path = r.fields.at(":path");
    h2_peer::answer a{200, "fine", {}, false, 0};
    a.silent = path == "/silent";
    a.head_only = path == "/stall";
    if (path == "/big") a.body.assign(1000, 'b');
    return a;
  };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::exchange_params head;
    head.response_head_timeout = 50ms;
    const auto silent = co_await f.send("GET", "/silent", {}, head);
    CHECK(silent.out.ec == sentinel::error::response_timeout);
    d::exchange_params idle;
    idle.idle_read_timeout = 50ms;
    const auto stall = co_await f.send("GET", "/stall", {}, idle);
    CHECK(stall.out.ec == sentinel::error::idle_timeout);
    CHECK(stall.res.status() == 200);  // the head came; the body did not
    d::exchange_params total;
    total.total_deadline = d::clock::now() + 50ms;
    const auto whole = co_await f.send("GET", "/silent", {}, total);
    CHECK(whole.out.ec == sentinel::error::request_timeout);
    d::exchange_params limited;
    limited.max_body_bytes = 100;
    const auto big = co_await f.send("GET", "/big", {}, limited);
    CHECK(big.out.ec == sentinel::error::body_too_large);
    CHECK(big.body.empty());  // refused on its declared length, before a byte of it
    const auto after = co_await f.send("GET", "/ok");
    CHECK_FALSE(after.out.ec);
    CHECK(after.body == "fine");
  }());
  CHECK(f.conn->reusable());  // every failure above was one stream's
  CHECK(f.conn->active() == 0);
}

TEST_CASE("http2: a body shorter or longer than its content-length fails its stream alone", "[http2]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    const std::string& path = r.fields.at(":path");
    h2_peer::answer a{200, "0123456789", {}, false, 0};
    if (path == "/short") a.declared_length = "20";
    if (path == "/long") a.declared_length = "5";
    return a;
  };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto shorter = co_await f.send("GET", "/short");
    CHECK(shorter.out.ec == sentinel::error::unexpected_eof);
    const auto longer = co_await f.send("GET", "/long");
    CHECK(longer.out.ec == sentinel::error::body_length_mismatch);
    const auto after = co_await f.send("GET", "/ok");
    CHECK_FALSE(after.out.ec);
    CHECK(after.body == "0123456789");
  }());
  CHECK(f.conn->reusable());
}

TEST_CASE("http2: a reused connection that dies before a stream hears back did not process it", "[http2]") {
  for (const bool reused : {true, false}) {
    INFO((reused ? "reused" : "fresh") << " connection");
    fixture f;
    f.peer->respond = [](const request_seen& r) {
      h2_peer::answer a{200, "fine", {}, false, 0};
      a.silent = r.fields.at(":path") == "/silent";
      return a;
    };
    f.start_peer();
    run_until(f.io, [&]() -> asio::awaitable<void> {
      if (reused) {
        const auto first = co_await f.send("GET", "/ok");
        CHECK_FALSE(first.out.ec);
      }
      fixture::result r;
      bool done = false;
      asio::co_spawn(
          co_await asio::this_coro::executor,
          [&]() -> asio::awaitable<void> {
            r = co_await f.send("GET", "/silent");
            done = true;
          },
          asio::detached);
      while (f.peer->answered < (reused ? 2u : 1u)) {
        asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
        co_await t.async_wait(asio::use_awaitable);
      }
      f.peer->close();  // the server goes away without a word about the stream
      while (!done) {
        asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
        co_await t.async_wait(asio::use_awaitable);
      }
      CHECK(r.out.ec == sentinel::error::unexpected_eof);
      CHECK(r.out.not_processed == reused);  // a fresh connection proves nothing: no retry
      CHECK_FALSE(r.out.refused);            // a guess from the connection's end, not the server's word
    }());
    CHECK_FALSE(f.conn->reusable());
  }
}

TEST_CASE("http2: cancelling one of three streams resets it alone", "[http2]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    h2_peer::answer a{200, "fine", {}, false, 0};
    a.silent = r.fields.at(":path") == "/silent";
    return a;
  };
  f.start_peer();
  asio::cancellation_signal cancel_b;
  std::vector<fixture::result> results(3);
  int done = 0;
  run_until(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 3; ++i) {
      // (The function object is handed to co_spawn, which keeps it alive while the coroutine runs.)
      auto one = [&, i]() -> asio::awaitable<void> {
        results[static_cast<std::size_t>(i)] = co_await f.send("GET", i == 1 ? "/silent" : "/ok");
        ++done;
      };
      if (i == 1)
        asio::co_spawn(ex, std::move(one), asio::bind_cancellation_slot(cancel_b.slot(), asio::detached));
      else
        asio::co_spawn(ex, std::move(one), asio::detached);
    }
    while (done < 2 || f.conn->active() > 1) {  // the other two answered; the silent one waits
      asio::steady_timer t(ex, 1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    cancel_b.emit(asio::cancellation_type::terminal);
    while (done < 3) {
      asio::steady_timer t(ex, 1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    const auto after = co_await f.send("GET", "/ok");
    CHECK_FALSE(after.out.ec);
    // Let the peer read the reset.
    asio::steady_timer t(ex, 5ms);
    co_await t.async_wait(asio::use_awaitable);
  }());
  CHECK_FALSE(results[0].out.ec);
  CHECK(results[1].out.ec == asio::error::operation_aborted);
  CHECK_FALSE(results[2].out.ec);
  CHECK(f.conn->reusable());
  CHECK(f.peer->closed.at(3) == NGHTTP2_CANCEL);  // the second stream (id 3) was reset by the client
  CHECK(f.peer->closed.at(1) == NGHTTP2_NO_ERROR);
}

namespace {

sentinel::client_options http1_only() {
  sentinel::client_options o;
  o.version = sentinel::http_version::http1_1;
  return o;
}

// An http_client whose connections are memory pipes to h2_peers; each connection reports `alpn` as
// negotiated (empty: none, as over plain TCP).
struct client_fixture {
  explicit client_fixture(sentinel::client_options o, std::string negotiated = {})
      : alpn(std::move(negotiated)), client(io, std::move(o)) {
    auto& core = d::client_access::core(client);
    core.conns->connector = [this, ex = core.ex](const d::route&,
                                                 d::stream& s) -> asio::awaitable<std::error_code> {
      auto [mine, theirs] = sentinel::test::make_memory_pipe(ex);
      sentinel::test::attach_memory(s, mine, alpn);
      peers.push_back(std::make_unique<h2_peer>(theirs));
      const bool refuse = peers.size() <= refusing_peers;
      peers.back()->respond = [refuse](const request_seen& r) {
        if (refuse) return h2_peer::answer{0, {}, {}, false, NGHTTP2_REFUSED_STREAM};
        return h2_peer::answer{200, echo_of(r), {}, false, 0};
      };
      asio::co_spawn(ex, peers.back()->run(), asio::detached);
      co_return std::error_code{};
    };
  }

  // `n` requests at once; the results in order.
  std::vector<std::tuple<std::error_code, sentinel::response>> send_all(const std::string& url, int n) {
    std::vector<std::tuple<std::error_code, sentinel::response>> results(static_cast<std::size_t>(n));
    int done = 0;
    run_until(io, [&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      for (int i = 0; i < n; ++i) {
        asio::co_spawn(
            ex,
            [&, i]() -> asio::awaitable<void> {
              sentinel::request req("GET", url + std::to_string(i));
              results[static_cast<std::size_t>(i)] = co_await sentinel::test::fetch(client, std::move(req));
              ++done;
            },
            asio::detached);
      }
      while (done < n) {
        asio::steady_timer t(ex, 1ms);
        co_await t.async_wait(asio::use_awaitable);
      }
    }());
    return results;
  }

  asio::io_context io;
  std::vector<std::unique_ptr<h2_peer>> peers;
  std::size_t refusing_peers = 0;  // the first connections refuse every stream (REFUSED_STREAM)
  std::string alpn;
  sentinel::http_client client;
};

}  // namespace

TEST_CASE("http2: a client with HTTP/2 by prior knowledge carries 50 concurrent requests on one connection",
          "[http2][client]") {
  sentinel::client_options o;
  o.version = sentinel::http_version::http2_prior_knowledge;
  client_fixture f(o);
  const auto results = f.send_all("http://h2.test/r", 50);
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO("request " << i);
    const auto& [ec, res] = results[i];
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 200);
    CHECK(res.version() == 20);
    CHECK(res.body() == "GET /r" + std::to_string(i) + " ");
  }
  CHECK(f.peers.size() == 1);  // every request on the one connection
  REQUIRE(f.peers.size() == 1);
  CHECK(f.peers[0]->requests.size() == 50);
  const auto s = f.client.stats();
  CHECK(s.connections_opened == 1);
  CHECK(s.errors == 0);
}

TEST_CASE("http2: async_send(req, res) fills one response again and again", "[http2][client][reuse]") {
  sentinel::client_options o;
  o.version = sentinel::http_version::http2_prior_knowledge;
  client_fixture f(o);
  const sentinel::request req("POST", "http://h2.test/same", {}, "abc");
  sentinel::response res;
  std::size_t fields = 0;
  for (int i = 0; i < 3; ++i) {
    INFO("send " << i);
    const auto ec = run_until(f.io, [&]() -> asio::awaitable<std::error_code> {
      auto [e] = co_await f.client.async_send(req, res, sentinel::test::use_tuple);
      co_return e;
    }());
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 200);
    CHECK(res.version() == 20);
    CHECK(res.body() == "POST /same abc");
    CHECK(res.url() == req.url());
    if (i == 0) fields = res.headers().size();
    CHECK(res.headers().size() == fields);  // the last answer's fields alone, nothing carried over
    CHECK(res.info().reused_connection == (i > 0));
  }
  CHECK(req.body() == "abc");
  REQUIRE(f.peers.size() == 1);
  CHECK(f.peers[0]->requests.size() == 3);
}

TEST_CASE("http2: max_streams_per_connection caps what one connection carries", "[http2][client]") {
  sentinel::client_options o;
  o.version = sentinel::http_version::http2_prior_knowledge;
  o.pool.max_streams_per_connection = 4;
  o.pool.max_per_origin = 3;
  client_fixture f(o);
  const auto results = f.send_all("http://h2.test/r", 20);  // 12 at a time: three connections of four
  for (const auto& [ec, res] : results) {
    REQUIRE_FALSE(ec);
    CHECK(res.version() == 20);
  }
  REQUIRE(f.peers.size() == 3);
  std::size_t carried = 0;
  for (const auto& p : f.peers) {
    CHECK(p->requests.size() >= 4);
    carried += p->requests.size();
  }
  CHECK(carried == 20);
  CHECK(f.client.stats().connections_opened == 3);
}

TEST_CASE("http2: https offers h2 only when asked; the server's choice picks the session",
          "[http2][client]") {
  SECTION("HTTP/2 preferred, the server picks h2: HTTP/2 on one connection") {
    sentinel::client_options o;
    o.version = sentinel::http_version::http2;
    client_fixture f(o, "h2");
    const auto results = f.send_all("https://h2.test/p", 5);
    for (const auto& [ec, res] : results) {
      REQUIRE_FALSE(ec);
      CHECK(res.version() == 20);
    }
    CHECK(f.peers.size() == 1);
  }
  SECTION("the default offers h2 to https:// and speaks what the server picks") {
    client_fixture f(sentinel::client_options{}, "h2");
    const auto results = f.send_all("https://h2.test/p", 3);
    for (const auto& [ec, res] : results) {
      REQUIRE_FALSE(ec);
      CHECK(res.version() == 20);
    }
    CHECK(f.peers.size() == 1);
  }
  SECTION("HTTP/1.1 only: a server that picks h2 picked what was not offered") {
    client_fixture f(http1_only(), "h2");
    const auto results = f.send_all("https://h2.test/p", 1);
    CHECK(std::get<0>(results[0]) == sentinel::error::alpn_mismatch);
  }
  SECTION("a request may ask for HTTP/2 on a client that does not") {
    client_fixture f(http1_only(), "h2");
    sentinel::request req("GET", "https://h2.test/one");
    req.options().version = sentinel::http_version::http2;
    auto [ec, res] = run_until(f.io, sentinel::test::fetch(f.client, std::move(req)));
    REQUIRE_FALSE(ec);
    CHECK(res.version() == 20);
    CHECK(res.body() == "GET /one ");
  }
}

TEST_CASE("http2: a refused request is sent again on a new connection, any method, as max_refused allows",
          "[http2][client]") {
  sentinel::client_options o;
  o.version = sentinel::http_version::http2_prior_knowledge;
  o.retry.max_refused = 2;
  auto post = [] {
    sentinel::request req("POST", "http://h2.test/form");
    req.set_body("data");
    return req;
  };
  SECTION("refused twice: the third connection answers") {
    client_fixture f(o);
    f.refusing_peers = 2;
    auto [ec, res] = run_until(f.io, sentinel::test::fetch(f.client, post()));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "POST /form data");  // not idempotent, still sent again: the server said so
    CHECK(res.info().retries == 2);
    CHECK(f.peers.size() == 3);
    for (const auto& p : f.peers)
      CHECK(p->requests.size() == 1);
  }
  SECTION("refused once more than allowed: stream_refused") {
    client_fixture f(o);
    f.refusing_peers = 3;
    auto [ec, res] = run_until(f.io, sentinel::test::fetch(f.client, post()));
    CHECK(ec == sentinel::error::stream_refused);
    CHECK(ec == sentinel::condition::connection_lost);
    CHECK(f.peers.size() == 3);
    CHECK(f.client.stats().retries == 2);
  }
  SECTION("max_refused 0: never sent again") {
    o.retry.max_refused = 0;
    client_fixture f(o);
    f.refusing_peers = 1;
    sentinel::request req("GET", "http://h2.test/once");
    auto [ec, res] = run_until(f.io, sentinel::test::fetch(f.client, std::move(req)));
    CHECK(ec == sentinel::error::stream_refused);
    CHECK(f.peers.size() == 1);
    CHECK(f.client.stats().retries == 0);
  }
}

TEST_CASE("http2: a request whose pooled connection does not answer the health PING goes to a new one",
          "[http2][client][health]") {
  sentinel::client_options o;
  o.version = sentinel::http_version::http2_prior_knowledge;
  o.pool.ping_after_idle = 40ms;
  o.timeouts.connect = 100ms;  // the PING's answer is due within it
  client_fixture f(o);
  auto [ec1, first] =
      run_until(f.io, sentinel::test::fetch(f.client, sentinel::request("GET", "http://h2.test/1")));
  REQUIRE_FALSE(ec1);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 60ms);
    co_await t.async_wait(asio::use_awaitable);
  }());
  REQUIRE(f.peers.size() == 1);
  f.peers[0]->hold_output = true;  // the first connection's server goes quiet
  sentinel::request post("POST", "http://h2.test/2");
  post.set_body("data");
  auto [ec2, second] = run_until(f.io, sentinel::test::fetch(f.client, std::move(post)));
  REQUIRE_FALSE(ec2);
  CHECK(second.body() == "POST /2 data");  // sent once, on the new connection
  CHECK(second.info().retries == 1);
  CHECK(f.peers.size() == 2);
  CHECK(f.peers[0]->requests.size() == 1);
  CHECK(f.peers[0]->pings == 1);
}

TEST_CASE("http2: a GOAWAY with an error code names it for the streams the connection's end fails",
          "[http2]") {
  fixture f;
  f.peer->respond = [](const request_seen&) {
    h2_peer::answer a;
    a.silent = true;
    return a;
  };
  f.start_peer();
  // GOAWAY(last stream 1, ENHANCE_YOUR_CALM), then the end: stream 1 was taken, and is lost.
  const auto r = f.send_then("/silent", [](h2_peer& p) {
    const char goaway[] = {0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xb};
    p.write_raw(std::string_view(goaway, sizeof goaway));
    p.close();
  });
  CHECK(r.out.ec == sentinel::error::unexpected_eof);
  CHECK(r.out.http2_error == NGHTTP2_ENHANCE_YOUR_CALM);
  CHECK_FALSE(r.out.not_processed);  // at or below the last stream id: it may have been processed
  CHECK_FALSE(f.conn->reusable());
}
