// Plain HTTP against a real nginx: the methods, byte-exact bodies, framing, keep-alive limits and timeouts.
#include <sentinel/client_pool.hpp>
#include <sentinel/http_client.hpp>

#include "support/client_helpers.hpp"
#include "support/nginx.hpp"
#include "support/run_until.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <thread>

using namespace std::chrono_literals;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::nginx;
using sentinel::test::run_until;
using sentinel::test::use_tuple;

namespace {

std::tuple<std::error_code, response> fetch(asio::io_context& ctx, http_client& c, request req) {
  auto coro = [&c](request r) -> asio::awaitable<std::tuple<std::error_code, response>> {
    co_return co_await c.async_send(std::move(r), use_tuple);
  };
  return run_until(ctx, coro(std::move(req)), 20s);
}

#define SKIP_WITHOUT_NGINX()                          \
  if (!nginx::available()) {                          \
    WARN("skipped: " << nginx::unavailable_reason()); \
    return;                                           \
  }

}  // namespace

TEST_CASE("nginx: GET, HEAD, POST and byte-exact bodies over one keep-alive connection", "[interop][nginx]") {
  SKIP_WITHOUT_NGINX();
  nginx ng;
  asio::io_context ctx;
  http_client client(ctx);

  auto [e1, hello] = fetch(ctx, client, request("GET", ng.url("/hello")));
  INFO(ng.error_log());
  REQUIRE_FALSE(e1);
  CHECK(hello.status() == 200);
  CHECK(hello.body() == "Hello, World!");

  auto [e2, big] = fetch(ctx, client, request("GET", ng.url("/1m")));
  REQUIRE_FALSE(e2);
  CHECK(big.body().size() == 1048576);
  CHECK(big.body() == nginx::file_body(1048576));

  auto [e3, four] = fetch(ctx, client, request("GET", ng.url("/4k")));
  REQUIRE_FALSE(e3);
  CHECK(four.body() == nginx::file_body(4096));

  auto [e4, head] = fetch(ctx, client, request("HEAD", ng.url("/1m")));
  REQUIRE_FALSE(e4);
  CHECK(head.status() == 200);
  CHECK(head.headers().get("Content-Length") == "1048576");
  CHECK(head.body().empty());

  std::string payload;
  for (int i = 0; i < 20000; ++i)
    payload += static_cast<char>('A' + i % 26);
  auto [e5, echo] =
      fetch(ctx, client, request("POST", ng.url("/echo"), {{"Content-Type", "text/plain"}}, payload));
  REQUIRE_FALSE(e5);
  CHECK(echo.status() == 200);
  CHECK(echo.body() == payload);

  auto [e6, chunked] = fetch(ctx, client, request("GET", ng.url("/chunked")));
  REQUIRE_FALSE(e6);
  CHECK(chunked.headers().has_token("Transfer-Encoding", "chunked"));
  CHECK(chunked.body() == nginx::chunked_body());

  auto [e7, none] = fetch(ctx, client, request("GET", ng.url("/status/204")));
  REQUIRE_FALSE(e7);
  CHECK(none.status() == 204);
  auto [e8, not_modified] = fetch(ctx, client, request("GET", ng.url("/status/304")));
  REQUIRE_FALSE(e8);
  CHECK(not_modified.status() == 304);
  auto [e9, missing] = fetch(ctx, client, request("GET", ng.url("/status/404")));
  REQUIRE_FALSE(e9);
  CHECK(missing.status() == 404);

  // Nine requests, every one framed and complete: one connection carried them all.
  CHECK(client.stats().connections_opened == 1);
  CHECK(client.stats().errors == 0);
}

TEST_CASE("nginx: keepalive_requests 2 closes every second response; the client follows",
          "[interop][nginx]") {
  SKIP_WITHOUT_NGINX();
  sentinel::test::nginx_options o;
  o.keepalive_requests = 2;
  nginx ng(o);
  asio::io_context ctx;
  http_client client(ctx);
  for (int i = 0; i < 6; ++i) {
    auto [ec, res] = fetch(ctx, client, request("GET", ng.url("/hello")));
    INFO(i << " " << ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.headers().has_token("Connection", "close") == (i % 2 == 1));
  }
  CHECK(client.stats().connections_opened == 3);
  CHECK(client.stats().retries == 0);
}

TEST_CASE("nginx: an idle connection closed by keepalive_timeout is invisible", "[interop][nginx]") {
  SKIP_WITHOUT_NGINX();
  sentinel::test::nginx_options o;
  o.keepalive_timeout = 1s;
  nginx ng(o);
  asio::io_context ctx;
  http_client client(ctx);
  auto [e1, r1] = fetch(ctx, client, request("GET", ng.url("/hello")));
  REQUIRE_FALSE(e1);
  std::this_thread::sleep_for(1500ms);  // nginx closes the idle connection meanwhile (that is the point)
  auto [e2, r2] = fetch(ctx, client, request("GET", ng.url("/hello")));
  REQUIRE_FALSE(e2);
  CHECK(r2.body() == "Hello, World!");
  CHECK(client.stats().connections_opened == 2);
}

TEST_CASE("nginx: gzip decoded with decompress, redirect followed", "[interop][nginx]") {
  SKIP_WITHOUT_NGINX();
  nginx ng;
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.decompress = true;
  opts.redirect.follow = true;
  http_client client(ctx, opts);
  auto [e1, text] = fetch(ctx, client, request("GET", ng.url("/text")));
  REQUIRE_FALSE(e1);
  CHECK(text.body() == nginx::text_body());
  CHECK(text.info().bytes_received < nginx::text_body().size());  // it really came compressed
  auto [e2, chunked] = fetch(ctx, client, request("GET", ng.url("/chunked")));
  REQUIRE_FALSE(e2);
  CHECK(chunked.body() == nginx::chunked_body());
  auto [e3, moved] = fetch(ctx, client, request("GET", ng.url("/redirect")));
  REQUIRE_FALSE(e3);
  CHECK(moved.body() == "Hello, World!");
  CHECK(moved.info().redirects == 1);
}

TEST_CASE("nginx: a client_pool under concurrent load", "[interop][nginx]") {
  SKIP_WITHOUT_NGINX();
  nginx ng;
  sentinel::pool_options po;
  po.workers = 4;
  sentinel::client_pool pool(po);
  std::vector<std::future<response>> futures;
  for (int i = 0; i < 400; ++i)
    futures.push_back(pool.async_send(request("GET", ng.url(i % 2 ? "/hello" : "/4k")), asio::use_future));
  int ok = 0;
  for (int i = 0; i < 400; ++i) {
    response r = futures[static_cast<std::size_t>(i)].get();
    ok += r.status() == 200 && r.body().size() == (i % 2 ? 13u : 4096u);
  }
  CHECK(ok == 400);
  CHECK(pool.stats().total.errors == 0);
}
