// http_client against the in-process script_server: keep-alive, framing, limits, tokens, pool limits.
#include <sentinel/http_client.hpp>

#include "support/client_helpers.hpp"
#include "support/fd_count.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::fetch;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::step;
using sentinel::test::use_tuple;

namespace {

// Sends one request and returns (ec, response) without throwing.
std::tuple<std::error_code, response> fetch_sync(asio::io_context& ctx, http_client& c, request req,
                                                 std::chrono::milliseconds deadline = 10s) {
  return run_until(ctx, fetch(c, std::move(req)), deadline);
}

request get(const std::string& url) {
  return request("GET", url);
}

}  // namespace

TEST_CASE("GET over keep-alive: three requests share one connection", "[loopback]") {
  script_server server(
      [](const received_request& r) { return script_server::response(200, "hi " + r.target); });
  asio::io_context ctx;
  http_client client(ctx);
  for (int i = 0; i < 3; ++i) {
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/n" + std::to_string(i))));
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 200);
    CHECK(res.reason() == "OK");
    CHECK(res.body() == "hi /n" + std::to_string(i));
    CHECK(res.info().reused_connection == (i > 0));
  }
  CHECK(server.connections_accepted() == 1);
  CHECK(server.requests_received() == 3);
  const auto s = client.stats();
  CHECK(s.requests == 3);
  CHECK(s.connections_opened == 1);
  CHECK(s.connections_reused == 2);
  CHECK(s.idle_connections == 1);
}

TEST_CASE("the request on the wire: request line, Host, User-Agent, body", "[loopback]") {
  script_server server([](const received_request&) { return script_server::response(201, "made"); });
  asio::io_context ctx;
  http_client client(ctx);
  request req("POST", server.url("/items?x=1"), {{"Content-Type", "text/plain"}, {"X-Trace", "a"}},
              "payload");
  auto [ec, res] = fetch_sync(ctx, client, std::move(req));
  REQUIRE_FALSE(ec);
  CHECK(res.status() == 201);
  auto reqs = server.all_requests();
  REQUIRE(reqs.size() == 1);
  const auto& r = reqs[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/items?x=1");
  CHECK(r.version == "HTTP/1.1");
  CHECK(r.header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(r.header("User-Agent") == std::string("sentinel/") + sentinel::version_string);
  CHECK(r.header("Content-Length") == "7");
  CHECK(r.header("Content-Type") == "text/plain");
  CHECK(r.header("X-Trace") == "a");
  CHECK(r.body == "payload");
  CHECK_FALSE(r.has_header("Connection"));
}

TEST_CASE("Connection: close retires the connection", "[loopback]") {
  script_server server([](const received_request&) {
    return script_server::response(200, "bye", {{"Connection", "close"}});
  });
  asio::io_context ctx;
  http_client client(ctx);
  for (int i = 0; i < 2; ++i) {
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "bye");
    CHECK_FALSE(res.info().reused_connection);
  }
  CHECK(server.connections_accepted() == 2);
  CHECK(client.stats().idle_connections == 0);
}

TEST_CASE("HTTP/1.0 responses", "[loopback]") {
  asio::io_context ctx;
  http_client client(ctx);
  SECTION("close-delimited body") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.0 200 OK\r\n\r\nuntil close"), step::close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(ec);
    CHECK(res.version() == 10);
    CHECK(res.body() == "until close");
    CHECK(client.stats().idle_connections == 0);
  }
  SECTION("keep-alive with Content-Length is reused") {
    script_server server([](const received_request&) {
      return std::string("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    });
    for (int i = 0; i < 2; ++i) {
      auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
      REQUIRE_FALSE(ec);
      CHECK(res.body() == "ok");
    }
    CHECK(server.connections_accepted() == 1);
  }
  SECTION("without keep-alive the connection is not reused") {
    script_server server([](const received_request&) {
      return std::string("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    for (int i = 0; i < 2; ++i) {
      auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
      REQUIRE_FALSE(ec);
    }
    CHECK(server.connections_accepted() == 2);
  }
}

TEST_CASE("responses without a body: 204, 304, HEAD", "[loopback]") {
  script_server server([](const received_request& r) {
    if (r.target == "/204") return std::string("HTTP/1.1 204 No Content\r\n\r\n");
    if (r.target == "/304")
      return std::string("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n");
    return script_server::response(200, "", {{"Content-Length", "1234"}});  // HEAD: length of the GET body
  });
  asio::io_context ctx;
  http_client client(ctx);
  auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/204")));
  REQUIRE_FALSE(e1);
  CHECK(r1.status() == 204);
  CHECK(r1.body().empty());
  auto [e2, r2] = fetch_sync(ctx, client, get(server.url("/304")));
  REQUIRE_FALSE(e2);
  CHECK(r2.status() == 304);
  CHECK(r2.body().empty());
  auto [e3, r3] = fetch_sync(ctx, client, request("HEAD", server.url("/head")));
  REQUIRE_FALSE(e3);
  CHECK(r3.status() == 200);
  CHECK(r3.headers().get("Content-Length") == "1234");
  CHECK(r3.body().empty());
  // All three were framed without a body, so the one connection carried them all.
  CHECK(server.connections_accepted() == 1);
}

TEST_CASE("chunked body with extensions and trailers", "[loopback]") {
  script_server server({{step::expect_request(),
                         step::send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n"),
                         step::wait_for_close()}});
  asio::io_context ctx;
  http_client client(ctx);
  auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
  REQUIRE_FALSE(ec);
  CHECK(res.body() == "hello, world");
  CHECK(res.trailers().get("X-Checksum") == "abc");
  CHECK(client.stats().idle_connections == 1);
}

TEST_CASE("a response dripped one byte at a time is assembled", "[loopback]") {
  const std::string reply =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  script_server server({{step::expect_request(), step::send_drip(reply, 1ms), step::wait_for_close()}});
  asio::io_context ctx;
  http_client client(ctx);
  auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
  REQUIRE_FALSE(ec);
  CHECK(res.body() == "abc");
  CHECK(res.headers().get("X-A") == "1");
}

TEST_CASE("100 Continue and 103 Early Hints are skipped", "[loopback]") {
  script_server server(
      {{step::expect_request(),
        step::send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                   "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"),
        step::wait_for_close()}});
  asio::io_context ctx;
  http_client client(ctx);
  auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
  REQUIRE_FALSE(ec);
  CHECK(res.status() == 200);
  CHECK(res.body() == "body");
  CHECK_FALSE(res.headers().contains("Link"));
}

TEST_CASE("a truncated body is an error, never a success", "[loopback]") {
  asio::io_context ctx;
  http_client client(ctx);
  SECTION("Content-Length") {
    script_server server({{step::expect_request(),
                           step::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), step::close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::unexpected_eof);
    CHECK(ec == sentinel::condition::connection_lost);
    CHECK(res.status() == 0);
  }
  SECTION("chunked") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
          step::close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::unexpected_eof);
  }
  SECTION("mid-head") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Len"), step::close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::unexpected_eof);
  }
  SECTION("no byte at all on a fresh connection: empty reply, not retried") {
    script_server server({{step::expect_request(), step::close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::empty_reply);
    CHECK(server.connections_accepted() == 1);
    CHECK(client.stats().retries == 0);
  }
}

TEST_CASE("limits fail loudly and retire the connection", "[loopback]") {
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.limits.max_head_bytes = 1024;
  opts.limits.max_header_count = 10;
  opts.limits.max_body_bytes = 100;
  http_client client(ctx, opts);
  SECTION("head too large") {
    script_server server({{step::expect_request(),
                           step::send("HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"),
                           step::wait_for_close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::header_too_large);
    CHECK(ec == sentinel::condition::limit_exceeded);
  }
  SECTION("too many headers") {
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 11; ++i)
      head += "X-" + std::to_string(i) + ": v\r\n";
    script_server server({{step::expect_request(), step::send(head + "\r\n"), step::wait_for_close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::too_many_headers);
  }
  SECTION("body too large, by Content-Length and by chunks") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"),
          step::wait_for_close()},
         {step::expect_request(),
          step::send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + std::string(100, 'x') +
                     "\r\n1\r\ny\r\n0\r\n\r\n"),
          step::wait_for_close()}});
    auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(e1 == error::body_too_large);
    auto [e2, r2] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(e2 == error::body_too_large);
    CHECK(server.connections_accepted() == 2);  // the first connection was not reused
  }
  SECTION("a per-request body limit overrides the client's") {
    script_server server(
        [](const received_request&) { return script_server::response(200, std::string(50, 'z')); });
    request req = get(server.url("/"));
    req.options().max_body_bytes = 10;
    auto [ec, res] = fetch_sync(ctx, client, std::move(req));
    CHECK(ec == error::body_too_large);
  }
  SECTION("the client keeps working after a limit error") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"),
          step::wait_for_close()}},
        {step::expect_request(), step::send(script_server::response(200, "fine")), step::wait_for_close()});
    auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(e1 == error::body_too_large);
    auto [e2, r2] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "fine");
  }
}

TEST_CASE("protocol errors are reported with their own codes", "[loopback]") {
  struct bad_case {
    const char* reply;
    error expected;
  };
  const bad_case cases[] = {
      {"HTTP/2.0 200 OK\r\n\r\n", error::bad_status_line},
      {"ICY 200 OK\r\n\r\n", error::bad_status_line},
      {"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", error::bad_header},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
       error::multiple_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", error::bad_content_length},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", error::bad_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", error::bad_chunk},
      // RFC 9110 §15.2.2: no switch to a protocol the request did not ask for.
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
       error::unexpected_response},
  };
  asio::io_context ctx;
  http_client client(ctx);
  for (const auto& c : cases) {
    INFO(c.reply);
    script_server server({{step::expect_request(), step::send(c.reply), step::wait_for_close()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == c.expected);
    CHECK(ec == sentinel::condition::protocol);
  }
}

TEST_CASE("a 101 to a request that asked for an upgrade is returned, and the connection retired",
          "[loopback]") {
  script_server server(
      {{step::expect_request(),
        step::send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        step::wait_for_close()}},
      {step::expect_request(), step::send(script_server::response(200, "after")), step::wait_for_close()});
  asio::io_context ctx;
  http_client client(ctx);
  request req = get(server.url("/ws"));
  req.headers().add("Upgrade", "websocket");
  req.headers().add("Connection", "Upgrade");
  auto [ec, res] = fetch_sync(ctx, client, std::move(req));
  REQUIRE_FALSE(ec);
  CHECK(res.status() == 101);
  auto [ec2, res2] = fetch_sync(ctx, client, get(server.url("/after")));
  CHECK_FALSE(ec2);
  CHECK(res2.body() == "after");
  CHECK(server.connections_accepted() == 2);
}

TEST_CASE("every completion token", "[loopback]") {
  script_server server([](const received_request&) { return script_server::response(200, "tok"); });
  asio::io_context ctx;
  http_client client(ctx);

  SECTION("use_awaitable returns the response; errors throw system_error") {
    auto res = run_until(ctx, [&]() -> asio::awaitable<response> {
      request req = get(server.url("/"));
      co_return co_await client.async_send(std::move(req), asio::use_awaitable);
    }());
    CHECK(res.body() == "tok");
    CHECK_THROWS_AS(run_until(ctx,
                              [&]() -> asio::awaitable<response> {
                                request bad;  // empty URL
                                co_return co_await client.async_send(std::move(bad), asio::use_awaitable);
                              }()),
                    std::system_error);
  }
  SECTION("callback runs on the client's executor") {
    bool called = false;
    client.async_send(get(server.url("/")), [&](std::error_code ec, response res) {
      called = true;
      CHECK_FALSE(ec);
      CHECK(res.body() == "tok");
    });
    CHECK_FALSE(called);  // never inside the initiating call
    ctx.run_for(5s);
    CHECK(called);
    ctx.restart();
  }
  SECTION("use_future") {
    std::thread runner;
    auto fut = client.async_send(get(server.url("/")), asio::use_future);
    ctx.run_for(5s);
    ctx.restart();
    REQUIRE(fut.wait_for(0s) == std::future_status::ready);
    CHECK(fut.get().body() == "tok");
  }
  SECTION("deferred starts only when awaited") {
    auto op = client.async_send(get(server.url("/")), asio::experimental::deferred);
    ctx.run_for(50ms);
    ctx.restart();
    CHECK(server.requests_received() == 0);
    auto [ec, res] = run_until(ctx, [&]() -> asio::awaitable<std::tuple<std::error_code, response>> {
      co_return co_await std::move(op)(use_tuple);
    }());
    CHECK_FALSE(ec);
    CHECK(res.body() == "tok");
  }
  SECTION("awaitable shortcuts") {
    auto res = run_until(ctx, client.get(server.url("/g")));
    CHECK(res.body() == "tok");
    auto res2 = run_until(ctx, client.post(server.url("/p"), "data"));
    CHECK(res2.status() == 200);
    CHECK(server.all_requests().back().body == "data");
    CHECK_THROWS_AS(run_until(ctx, client.get("not a url")), std::system_error);
  }
}

TEST_CASE("an idle client leaves no work on the caller's io_context", "[loopback]") {
  script_server server([](const received_request&) { return script_server::response(200, "x"); });
  asio::io_context ctx;
  http_client client(ctx);
  bool done = false;
  client.async_send(get(server.url("/")), [&](std::error_code ec, response) {
    CHECK_FALSE(ec);
    done = true;
  });
  const auto start = std::chrono::steady_clock::now();
  ctx.run();  // must return by itself once the request is done: no timers left pending
  CHECK(done);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("max_per_origin: requests beyond it wait in FIFO order for a connection", "[loopback]") {
  script_server server([](const received_request& r) { return script_server::response(200, r.target); });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.pool.max_per_origin = 2;
  http_client client(ctx, opts);
  std::vector<std::string> order;
  int pending = 8;
  for (int i = 0; i < 8; ++i) {
    client.async_send(get(server.url("/" + std::to_string(i))), [&](std::error_code ec, response res) {
      CHECK_FALSE(ec);
      order.push_back(res.body());
      --pending;
    });
  }
  ctx.run_for(10s);
  ctx.restart();
  CHECK(pending == 0);
  CHECK(server.connections_accepted() == 2);
  CHECK(order.size() == 8);
}

TEST_CASE("pool_acquire timeout fires while every connection is busy", "[loopback]") {
  script_server server({{step::expect_request(), step::stall(1500ms),
                         step::send(script_server::response(200, "late")), step::wait_for_close()}});
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.pool.max_per_origin = 1;
  opts.timeouts.pool_acquire = 200ms;
  http_client client(ctx, opts);
  std::error_code first, second;
  client.async_send(get(server.url("/a")), [&](std::error_code ec, response) { first = ec; });
  client.async_send(get(server.url("/b")), [&](std::error_code ec, response) { second = ec; });
  ctx.run_for(5s);
  ctx.restart();
  CHECK_FALSE(first);
  CHECK(second == error::pool_timeout);
  CHECK(second == sentinel::condition::timeout);
}

TEST_CASE("timeouts fire with their own codes and the client stays healthy", "[loopback]") {
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.timeouts.response_head = 300ms;
  opts.timeouts.idle_read = 300ms;
  http_client client(ctx, opts);
  SECTION("no answer: response_timeout") {
    script_server server(
        {{step::expect_request(), step::stall_forever()}},
        {step::expect_request(), step::send(script_server::response(200, "ok")), step::wait_for_close()});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::response_timeout);
    auto [e2, r2] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "ok");
  }
  SECTION("head then stall: idle_timeout") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
          step::stall_forever()}});
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    CHECK(ec == error::idle_timeout);
  }
  SECTION("total deadline") {
    script_server server(
        {{step::expect_request(),
          step::send_drip("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + std::string(40, 'd'), 20ms),
          step::wait_for_close()}});
    request req = get(server.url("/"));
    req.options().response_head_timeout = 10s;  // the head itself drips in slowly
    req.options().total_timeout = 400ms;
    auto [ec, res] = fetch_sync(ctx, client, std::move(req));
    CHECK(ec == error::request_timeout);
  }
  SECTION("a drip within the idle timeout passes") {
    script_server server(
        {{step::expect_request(), step::send_drip("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 20ms),
          step::wait_for_close()}});
    request req = get(server.url("/"));
    req.options().response_head_timeout = 10s;  // ~0.8 s for the whole head; each byte is 20 ms apart
    auto [ec, res] = fetch_sync(ctx, client, std::move(req));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "hello");
  }
}

TEST_CASE("a stale pooled connection is retried once for idempotent requests only", "[loopback]") {
  // Connection 1 answers one request, then closes while idle (no Connection: close): the classic
  // keep-alive race. Connection 2 answers normally.
  auto reply = script_server::response(200, "fresh");
  asio::io_context ctx;
  http_client client(ctx);
  SECTION("a connection the server closed while idle is dropped before use (no retry needed)") {
    script_server server(
        {{step::expect_request(), step::send(script_server::response(200, "first")), step::close()}},
        {step::expect_request(), step::send(reply), step::wait_for_close()});
    auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e1);
    REQUIRE(server.wait_for_closed(1));
    // The FIN has arrived: the idle check sees it and opens a new connection instead.
    auto [e2, r2] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "fresh");
    CHECK(r2.info().retries == 0);
    CHECK_FALSE(r2.info().reused_connection);
    CHECK(server.connections_accepted() == 2);
  }
  SECTION("the race itself: the server closes right after the request arrives") {
    script_server server({{step::expect_request(), step::send(script_server::response(200, "first")),
                           step::expect_request(), step::close()}},
                         {step::expect_request(), step::send(reply), step::wait_for_close()});
    auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e1);
    auto [e2, r2] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "fresh");
    CHECK(r2.info().retries == 1);
    CHECK(client.stats().retries == 1);
    CHECK(server.connections_accepted() == 2);
  }
  SECTION("POST is never re-sent silently") {
    script_server server({{step::expect_request(), step::send(script_server::response(200, "first")),
                           step::expect_request(), step::close()}},
                         {step::expect_request(), step::send(reply), step::wait_for_close()});
    auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e1);
    auto [e2, r2] = fetch_sync(ctx, client, request("POST", server.url("/"), {}, "once"));
    CHECK(e2 == error::empty_reply);
    CHECK(client.stats().retries == 0);
    CHECK(server.connections_accepted() == 1);
  }
  SECTION("POST with Idempotency-Key is retried") {
    script_server server({{step::expect_request(), step::send(script_server::response(200, "first")),
                           step::expect_request(), step::close()}},
                         {step::expect_request(), step::send(reply), step::wait_for_close()});
    auto [e1, r1] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(e1);
    auto [e2, r2] =
        fetch_sync(ctx, client, request("POST", server.url("/"), {{"Idempotency-Key", "k1"}}, "once"));
    REQUIRE_FALSE(e2);
    CHECK(r2.info().retries == 1);
  }
}

TEST_CASE("connect errors", "[loopback]") {
  asio::io_context ctx;
  http_client client(ctx);
  SECTION("a closed port fails fast with connection_refused") {
    std::string url;
    {
      script_server gone([](const received_request&) { return std::string(); });
      url = gone.url("/");
    }
    const auto start = std::chrono::steady_clock::now();
    auto [ec, res] = fetch_sync(ctx, client, get(url));
    CHECK(ec == asio::error::connection_refused);
    CHECK(ec == sentinel::condition::connect_failed);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
  SECTION("an invalid URL") {
    request req;
    auto [ec, res] = fetch_sync(ctx, client, std::move(req));
    CHECK(ec == error::invalid_url);
  }
  SECTION("a request with CR/LF in a header is refused before anything is sent") {
    script_server server([](const received_request&) { return script_server::response(200); });
    auto [ec, res] =
        fetch_sync(ctx, client, request("GET", server.url("/"), {{"X-Evil", "a\r\nInjected: 1"}}));
    CHECK(ec == error::invalid_request);
    CHECK(server.requests_received() == 0);
  }
}

TEST_CASE("IPv6 loopback", "[loopback]") {
  sentinel::test::server_options so;
  so.ipv6 = true;
  std::unique_ptr<script_server> server;
  try {
    server = std::make_unique<script_server>(
        [](const received_request& r) { return script_server::response(200, std::string(r.header("Host"))); },
        so);
  } catch (const std::exception& e) {
    WARN("skipped: cannot listen on ::1: " << e.what());
    return;
  }
  asio::io_context ctx;
  http_client client(ctx);
  auto [ec, res] = fetch_sync(ctx, client, get(server->url("/")));
  REQUIRE_FALSE(ec);
  CHECK(res.body() == "[::1]:" + std::to_string(server->port()));
}

TEST_CASE("cancellation", "[loopback]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context ctx;
  http_client client(ctx);
  SECTION("terminal cancel mid-response aborts and the client recovers") {
    script_server server(
        {{step::expect_request(), step::stall_forever()}},
        {step::expect_request(), step::send(script_server::response(200, "next")), step::wait_for_close()});
    auto result = run_until(
        ctx,
        [&]() -> asio::awaitable<
                  std::variant<std::tuple<std::error_code, response>, std::tuple<std::error_code>>> {
          asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
          request req = get(server.url("/"));
          co_return co_await (client.async_send(std::move(req), use_tuple) || t.async_wait(use_tuple));
        }());
    CHECK(result.index() == 1);  // the timer won; the request was cancelled
    auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "next");
    CHECK(server.connections_accepted() == 2);
  }
  SECTION("the cancelled operation completes with operation_aborted") {
    script_server server({{step::expect_request(), step::stall_forever()}});
    asio::cancellation_signal sig;
    std::error_code got;
    bool done = false;
    client.async_send(get(server.url("/")),
                      asio::bind_cancellation_slot(sig.slot(), [&](std::error_code ec, response) {
                        got = ec;
                        done = true;
                      }));
    asio::steady_timer t(ctx, 100ms);
    t.async_wait([&](std::error_code) { sig.emit(asio::cancellation_type::terminal); });
    ctx.run_for(5s);
    ctx.restart();
    CHECK(done);
    CHECK(got == asio::error::operation_aborted);
    CHECK(got == sentinel::condition::cancelled);
  }
}

TEST_CASE("no descriptor leaks across faults", "[loopback]") {
  const std::size_t before = sentinel::test::open_fd_count();
  {
    script_server server(
        {{step::expect_request(), step::reset()},
         {step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"),
          step::close()},
         {step::expect_request(), step::send("garbage\r\n\r\n"), step::wait_for_close()}},
        {step::expect_request(), step::send(script_server::response(200, "ok")), step::wait_for_close()});
    asio::io_context ctx;
    {
      http_client client(ctx);
      for (int i = 0; i < 3; ++i) {
        auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
        CHECK(ec);
      }
      auto [ec, res] = fetch_sync(ctx, client, get(server.url("/")));
      CHECK_FALSE(ec);
    }
    ctx.run_for(100ms);
  }
  CHECK(sentinel::test::open_fd_count() == before);
}
