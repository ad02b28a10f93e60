// What a failed request says: request_error (use_awaitable, use_future, the shortcuts) and
// info().failure (callbacks, as_tuple) name the method, the URL without credentials, the phase and the
// endpoint; the code stays the typed one.
#include <sentinel/client_pool.hpp>
#include <sentinel/http_client.hpp>
#include <sentinel/request_error.hpp>

#include "support/certs.hpp"
#include "support/client_helpers.hpp"
#include "support/ports.hpp"
#include "support/proxy_server.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <future>
#include <string>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::failure_info;
using sentinel::http_client;
using sentinel::phase;
using sentinel::request;
using sentinel::request_error;
using sentinel::response;
using sentinel::test::closed_port;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::step;
using sentinel::test::use_tuple;

namespace {

// Sends `req` with the default token and returns what it threw (fails the test if nothing).
template <class Sender>
request_error thrown_by(asio::io_context& ctx, Sender& sender, request req) {
  try {
    (void)run_until(ctx, sender.async_send(std::move(req)));
  } catch (const request_error& e) {
    return e;
  }
  FAIL("no request_error");
  throw;  // not reached
}

}  // namespace

TEST_CASE("error context: a refused connection names the request, connect and the address",
          "[loopback][errors]") {
  const std::string port = std::to_string(closed_port());
  const std::string url = "http://alice:secret@127.0.0.1:" + port + "/x?y=1#frag";
  const std::string expected =
      "GET http://127.0.0.1:" + port + "/x?y=1: connect to 127.0.0.1:" + port + ": Connection refused";
  asio::io_context ctx;
  http_client client(ctx);

  SECTION("async_send with the default token (use_awaitable)") {
    const request_error e = thrown_by(ctx, client, request("GET", url));
    CHECK(e.code() == asio::error::connection_refused);
    CHECK(e.code() == sentinel::condition::connect_failed);
    CHECK(std::string(e.what()) == expected);
    CHECK(e.failure().phase == phase::connect);
    CHECK(e.failure().method == "GET");
    CHECK(e.failure().url == "http://127.0.0.1:" + port + "/x?y=1");
    CHECK(e.failure().endpoint == "127.0.0.1:" + port);
    CHECK_THAT(e.what(), !Catch::Contains("secret") && !Catch::Contains("alice"));
  }
  SECTION("the awaitable shortcuts") {
    try {
      (void)run_until(ctx, client.get(url));
      FAIL("no exception");
    } catch (const request_error& e) {
      CHECK(std::string(e.what()) == expected);
    }
    try {
      (void)run_until(ctx, client.post(url, "body"));
      FAIL("no exception");
    } catch (const std::system_error& e) {  // a request_error is a system_error
      CHECK(e.code() == asio::error::connection_refused);
      CHECK_THAT(e.what(), Catch::StartsWith("POST http://127.0.0.1:" + port + "/x?y=1: connect to"));
    }
  }
  SECTION("use_future") {
    std::future<response> f = client.async_send(request("DELETE", url), asio::use_future);
    ctx.run();
    try {
      (void)f.get();
      FAIL("no exception");
    } catch (const request_error& e) {
      CHECK(e.code() == asio::error::connection_refused);
      CHECK_THAT(e.what(), Catch::StartsWith("DELETE http://127.0.0.1:" + port + "/x?y=1: connect to"));
    }
  }
  SECTION("as_tuple and callbacks: the same facts in info().failure, describe() the same words") {
    auto [ec, res] = run_until(ctx, client.async_send(request("GET", url), use_tuple));
    CHECK(ec == asio::error::connection_refused);
    CHECK(res.status() == 0);
    CHECK(res.body().empty());
    CHECK(res.info().failure.phase == phase::connect);
    CHECK(sentinel::describe(ec, res.info().failure) == expected);
  }
}

TEST_CASE("error context: client_pool's async_send says the same", "[loopback][errors]") {
  const std::string port = std::to_string(closed_port());
  const std::string url = "http://127.0.0.1:" + port + "/p";
  asio::io_context ctx;
  sentinel::pool_options opts;
  opts.workers = 1;
  sentinel::client_pool pool(opts);
  const request_error e = thrown_by(ctx, pool, request("GET", url));
  CHECK(e.code() == asio::error::connection_refused);
  CHECK(std::string(e.what()) == "GET " + url + ": connect to 127.0.0.1:" + port + ": Connection refused");

  pool.stop();
  // The worker let go of its last hold on ctx after the handler ran, perhaps after run_until() returned:
  // work reaching zero then stops ctx (Asio's rule). The workers are joined now; start ctx afresh.
  ctx.restart();
  const request_error stopped = thrown_by(ctx, pool, request("GET", url));
  CHECK(stopped.code() == error::pool_stopped);
  CHECK(stopped.failure().phase == phase::none);
  CHECK_THAT(stopped.what(), Catch::StartsWith("GET " + url + ": "));
}

TEST_CASE("error context: each phase", "[loopback][errors]") {
  asio::io_context ctx;

  SECTION("receive: the server closes without answering") {
    script_server server({{step::expect_request(), step::close()}});
    http_client client(ctx);
    auto [ec, res] = run_until(ctx, client.async_send(request("GET", server.url("/r")), use_tuple));
    CHECK(ec == error::empty_reply);
    const failure_info& f = res.info().failure;
    CHECK(f.phase == phase::receive);
    CHECK(f.endpoint == "127.0.0.1:" + std::to_string(server.port()));
    CHECK(sentinel::describe(ec, f) == "GET " + server.url("/r") + ": receive from 127.0.0.1:" +
                                           std::to_string(server.port()) + ": " + ec.message());
  }
  SECTION("send: the body source throws") {
    script_server server({{step::expect_head(), step::wait_for_close()}});
    http_client client(ctx);
    request req("PUT", server.url("/s"));
    req.set_body_source([](std::span<char>) -> asio::awaitable<std::size_t> {
      throw std::runtime_error("source failed");
      co_return 0;
    });
    auto [ec, res] = run_until(ctx, client.async_send(std::move(req), use_tuple));
    CHECK(ec == error::callback_threw);
    CHECK(res.info().failure.phase == phase::send);
    CHECK(res.info().failure.method == "PUT");
  }
  SECTION("queue: no connection became free in time") {
    script_server server({{step::expect_request(), step::stall(2s), step::close()}});
    sentinel::client_options o;
    o.pool.max_per_origin = 1;
    o.timeouts.pool_acquire = 100ms;
    http_client client(ctx, o);
    client.async_send(request("GET", server.url("/slow")), [](std::error_code, response) {});
    auto [ec, res] = run_until(ctx, client.async_send(request("GET", server.url("/second")), use_tuple));
    CHECK(ec == error::pool_timeout);
    CHECK(res.info().failure.phase == phase::queue);
    CHECK(res.info().failure.endpoint == "127.0.0.1:" + std::to_string(server.port()));
    CHECK_THAT(sentinel::describe(ec, res.info().failure),
               Catch::Contains(": wait for a connection to 127.0.0.1:"));
    client.shutdown();
  }
  SECTION("tls: a certificate nobody trusts") {
    sentinel::test::server_options so;
    so.tls = sentinel::test::tls_options{
        sentinel::test::certs().untrusted.cert, sentinel::test::certs().untrusted.key, {}};
    script_server server([](const received_request&) { return script_server::response(200); }, so);
    sentinel::client_options o;
    o.tls.ca_file = sentinel::test::certs().ca.cert;
    http_client client(ctx, o);
    auto [ec, res] = run_until(ctx, client.async_send(request("GET", server.url("/t")), use_tuple));
    CHECK(ec == error::certificate_untrusted);
    CHECK(res.info().failure.phase == phase::tls);
    CHECK(res.info().failure.endpoint == "127.0.0.1:" + std::to_string(server.port()));
    CHECK_THAT(sentinel::describe(ec, res.info().failure),
               Catch::Contains(": TLS handshake with 127.0.0.1:"));
  }
  SECTION("proxy: the proxy refuses the tunnel") {
    sentinel::test::proxy_options po;
    po.refuse_connect = true;
    sentinel::test::proxy_server proxy(po);
    sentinel::client_options o;
    o.proxy.https_proxy = proxy.url();
    http_client client(ctx, o);
    auto [ec, res] = run_until(ctx, client.async_send(request("GET", "https://127.0.0.1:9/"), use_tuple));
    CHECK(ec == error::proxy_error);
    CHECK(res.info().failure.phase == phase::proxy);
    CHECK(res.info().failure.endpoint == "127.0.0.1:" + std::to_string(proxy.port()));
    CHECK_THAT(sentinel::describe(ec, res.info().failure),
               Catch::Contains(": CONNECT tunnel through 127.0.0.1:"));
  }
  SECTION("redirect: too many of them") {
    script_server server([](const received_request& r) {
      return script_server::response(302, "", {{"Location", r.target + "x"}});
    });
    sentinel::client_options o;
    o.redirect.follow = true;
    o.redirect.max_redirects = 2;
    http_client client(ctx, o);
    auto [ec, res] = run_until(ctx, client.async_send(request("GET", server.url("/a")), use_tuple));
    CHECK(ec == error::too_many_redirects);
    CHECK(res.info().failure.phase == phase::redirect);
    CHECK(res.info().failure.url == server.url("/axx"));  // the URL that answered the last 3xx
    CHECK_THAT(sentinel::describe(ec, res.info().failure), Catch::Contains("/axx: follow redirect: "));
  }
  SECTION("resolve: a name that does not exist") {
    sentinel::client_options o;
    o.timeouts.connect = 2s;
    http_client client(ctx, o);
    auto [ec, res] =
        run_until(ctx, client.async_send(request("GET", "http://no-such-host.invalid:81/"), use_tuple));
    CHECK(ec);
    CHECK(res.info().failure.phase == phase::resolve);
    CHECK(res.info().failure.endpoint == "no-such-host.invalid:81");
    CHECK_THAT(sentinel::describe(ec, res.info().failure),
               Catch::StartsWith("GET http://no-such-host.invalid:81/: resolve no-such-host.invalid:81: "));
  }
}

TEST_CASE("error context: a success carries no failure", "[loopback][errors]") {
  script_server server([](const received_request&) { return script_server::response(200, "ok"); });
  asio::io_context ctx;
  http_client client(ctx);
  auto [ec, res] = run_until(ctx, client.async_send(request("GET", server.url("/")), use_tuple));
  REQUIRE_FALSE(ec);
  CHECK(res.info().failure.phase == phase::none);
  CHECK(res.info().failure.method.empty());
  CHECK(res.info().failure.url.empty());
}
