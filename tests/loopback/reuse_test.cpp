// http_client::async_send(const request&, response&, token): the caller's request sent as it is, again
// and again, and its response filled in place. What it must keep: the request never changes (a redirect
// works on a copy), each completion leaves exactly that exchange's response (nothing left over from the
// previous one), the response's storage is reused, and errors, tokens, callbacks that throw and
// cancellation behave as they do for async_send(request, token).
#include <sentinel/http_client.hpp>
#include <sentinel/request_error.hpp>

#include "support/ports.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::http_client;
using sentinel::phase;
using sentinel::request;
using sentinel::request_error;
using sentinel::response;
using sentinel::test::closed_port;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;

namespace {

// Sends `req` into `res` and returns the error code, without throwing.
std::error_code send_into(asio::io_context& ctx, http_client& c, const request& req, response& res) {
  auto op = [&]() -> asio::awaitable<std::error_code> {
    auto [ec] = co_await c.async_send(req, res, asio::experimental::as_tuple(asio::use_awaitable));
    co_return ec;
  };
  return run_until(ctx, op(), 10s);
}

}  // namespace

TEST_CASE("reuse: one request sent three times into one response", "[loopback][reuse]") {
  std::atomic<int> n{0};
  script_server server([&](const received_request& r) {
    // Each answer differs in status, fields, body and length, so that what the last one left shows.
    switch (n++) {
      case 0:
        return script_server::chunked_response(200, {"first ", "answer"}, {{"X-First", "1"}},
                                               {{"X-Sum", "a"}});
      case 1:
        return script_server::response(404, "2nd", {{"X-Second", "2"}});
      default:
        return script_server::response(200, "third on " + r.target);
    }
  });
  asio::io_context ctx;
  http_client client(ctx);
  request req("GET", server.url("/same?q=1"), {{"X-Mine", "kept"}});
  const request before = req;
  response res;

  REQUIRE_FALSE(send_into(ctx, client, req, res));
  CHECK(res.status() == 200);
  CHECK(res.body() == "first answer");
  CHECK(res.headers().contains("X-First"));
  CHECK(res.trailers().get("X-Sum") == "a");
  CHECK(res.url() == req.url());
  CHECK_FALSE(res.info().reused_connection);

  REQUIRE_FALSE(send_into(ctx, client, req, res));
  CHECK(res.status() == 404);
  CHECK(res.reason() == "Not Found");
  CHECK(res.body() == "2nd");
  CHECK_FALSE(res.headers().contains("X-First"));
  CHECK(res.headers().get("X-Second") == "2");
  CHECK(res.trailers().empty());
  CHECK(res.info().reused_connection);

  // The same shape again: the body's storage is the one the response already had.
  res.body().reserve(64);
  const char* storage = res.body().data();
  REQUIRE_FALSE(send_into(ctx, client, req, res));
  CHECK(res.status() == 200);
  CHECK(res.body() == "third on /same?q=1");
  CHECK(res.body().data() == storage);
  CHECK(res.headers().size() == 1);  // Content-Length alone
  CHECK(res.info().bytes_received > 0);

  CHECK(req.method() == before.method());
  CHECK(req.url() == before.url());
  CHECK(req.headers().get("X-Mine") == "kept");
  const auto got = server.all_requests();
  REQUIRE(got.size() == 3);
  for (const auto& r : got) {
    CHECK(r.target == "/same?q=1");
    CHECK(r.header("X-Mine") == "kept");
  }
  CHECK(server.connections_accepted() == 1);
}

TEST_CASE("reuse: a redirect works on a copy; the caller's request stays as it was", "[loopback][reuse]") {
  script_server server([](const received_request& r) {
    if (r.target == "/from") return script_server::response(302, "moved", {{"Location", "/to"}});
    return script_server::response(200, r.method + " " + r.target + " [" + r.body + "]");
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.redirect.follow = true;
  http_client client(ctx, opts);
  request req("POST", server.url("/from"), {{"Content-Type", "text/plain"}}, "payload");
  response res;
  for (int i = 0; i < 2; ++i) {
    REQUIRE_FALSE(send_into(ctx, client, req, res));
    CHECK(res.status() == 200);
    CHECK(res.body() == "GET /to []");  // 302 after POST: GET without the body (as the by-value overload)
    CHECK(res.url().path() == "/to");
    CHECK(res.info().redirects == 1);
    CHECK(req.method() == "POST");
    CHECK(req.url().path() == "/from");
    CHECK(req.body() == "payload");
    CHECK(req.headers().get("Content-Type") == "text/plain");
  }
  CHECK(server.requests_received() == 4);
}

TEST_CASE("reuse: on error the response is empty but for the failure", "[loopback][reuse]") {
  script_server server([](const received_request&) {
    return script_server::response(200, "fine", {{"X-A", "1"}});
  });
  asio::io_context ctx;
  http_client client(ctx);
  response res;
  REQUIRE_FALSE(send_into(ctx, client, request("GET", server.url("/")), res));
  REQUIRE(res.body() == "fine");

  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/gone";
  const request bad("GET", url);
  SECTION("as_tuple: the code, and the failure in the response") {
    const auto ec = send_into(ctx, client, bad, res);
    CHECK(ec == asio::error::connection_refused);
    CHECK(res.status() == 0);
    CHECK(res.body().empty());
    CHECK(res.headers().empty());
    CHECK(res.url().empty());
    CHECK(res.info().failure.phase == phase::connect);
    CHECK(res.info().failure.method == "GET");
    CHECK(res.info().failure.url == url);
  }
  SECTION("use_awaitable throws request_error naming the request; the response keeps the failure") {
    auto op = [&]() -> asio::awaitable<void> { co_await client.async_send(bad, res); };
    try {
      run_until(ctx, op(), 10s);
      FAIL("no exception");
    } catch (const request_error& e) {
      CHECK(e.code() == asio::error::connection_refused);
      CHECK(e.failure().phase == phase::connect);
      CHECK(e.failure().url == url);
    }
    CHECK(res.info().failure.url == url);
  }
  SECTION("a request without a URL") {
    CHECK(send_into(ctx, client, request(), res) == error::invalid_url);
    CHECK(res.body().empty());
  }
  // The client is fine afterwards, and so is the response.
  REQUIRE_FALSE(send_into(ctx, client, request("GET", server.url("/")), res));
  CHECK(res.body() == "fine");
  CHECK(res.info().failure.phase == phase::none);
}

TEST_CASE("reuse: every completion token", "[loopback][reuse]") {
  script_server server([](const received_request&) { return script_server::response(200, "tok"); });
  asio::io_context ctx;
  http_client client(ctx);
  const request req("GET", server.url("/t"));
  response res;
  SECTION("callback, never inside the initiating call") {
    bool called = false;
    client.async_send(req, res, [&](std::error_code ec) {
      called = true;
      CHECK_FALSE(ec);
    });
    CHECK_FALSE(called);
    ctx.run_for(5s);
    CHECK(called);
    CHECK(res.body() == "tok");
  }
  SECTION("use_future") {
    std::future<void> fut = client.async_send(req, res, asio::use_future);
    ctx.run_for(5s);
    REQUIRE(fut.wait_for(5s) == std::future_status::ready);
    fut.get();
    CHECK(res.body() == "tok");
    const request bad;
    ctx.restart();
    std::future<void> failed = client.async_send(bad, res, asio::use_future);
    ctx.run_for(5s);
    // (use_future's handler runs on its own associated executor, Asio's system executor: not at once)
    REQUIRE(failed.wait_for(5s) == std::future_status::ready);
    CHECK_THROWS_AS(failed.get(), request_error);
  }
  SECTION("deferred starts only when awaited") {
    auto op = client.async_send(req, res, asio::experimental::deferred);
    ctx.run_for(50ms);
    ctx.restart();
    CHECK(server.requests_received() == 0);
    run_until(ctx, [&]() -> asio::awaitable<void> { co_await std::move(op)(asio::use_awaitable); }());
    CHECK(res.body() == "tok");
  }
}

TEST_CASE("reuse: a callback that throws, and cancellation", "[loopback][reuse]") {
  asio::io_context ctx;
  http_client client(ctx);
  response res;
  SECTION("the exception is in the response, the code is callback_threw") {
    script_server server([](const received_request&) { return script_server::response(200, "x"); });
    request req("GET", server.url("/"));
    req.options().on_head = [](const response&) -> bool { throw std::runtime_error("from on_head"); };
    CHECK(send_into(ctx, client, req, res) == error::callback_threw);
    REQUIRE(res.info().callback_exception);
    CHECK_THROWS_WITH(std::rethrow_exception(res.info().callback_exception), "from on_head");
  }
  SECTION("terminal cancellation completes with operation_aborted and an empty response") {
    script_server server({{sentinel::test::step::expect_request(), sentinel::test::step::stall_forever()}});
    const request req("GET", server.url("/"));
    res.body() = "left from before";
    asio::cancellation_signal sig;
    std::error_code got;
    bool done = false;
    client.async_send(req, res, asio::bind_cancellation_slot(sig.slot(), [&](std::error_code ec) {
                        got = ec;
                        done = true;
                      }));
    asio::steady_timer t(ctx, 100ms);
    t.async_wait([&](std::error_code) { sig.emit(asio::cancellation_type::terminal); });
    ctx.run_for(5s);
    CHECK(done);
    CHECK(got == asio::error::operation_aborted);
    CHECK(res.body().empty());
  }
}
