// https:// against a real nginx (TLS listener with a session cache and tickets): verification, keep-alive
// over one TLS connection, large and chunked bodies, and session resumption over TLS 1.3 and TLS 1.2.
#include <sentinel/http_client.hpp>

#include "support/certs.hpp"
#include "support/client_helpers.hpp"
#include "support/nginx.hpp"
#include "support/run_until.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sentinel::client_options;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::fetch;
using sentinel::test::nginx;
using sentinel::test::run_until;
using sentinel::test::use_tuple;

namespace {

std::tuple<std::error_code, response> fetch_sync(asio::io_context& ctx, http_client& c, request req) {
  return run_until(ctx, fetch(c, std::move(req)), 20s);
}

client_options trusting_test_ca() {
  client_options o;
  o.tls.ca_file = sentinel::test::certs().ca.cert;
  return o;
}

std::unique_ptr<nginx> start_tls_nginx(std::string extra = {}) {
  sentinel::test::nginx_options o;
  o.tls = true;
  o.extra_server_config = std::move(extra);
  return std::make_unique<nginx>(o);
}

}  // namespace

TEST_CASE("nginx over TLS: GET /hello, keep-alive on one TLS connection, large and chunked bodies",
          "[interop][nginx][tls]") {
  if (!nginx::available()) {
    WARN("skipped: " << nginx::unavailable_reason());
    return;
  }
  auto ng = start_tls_nginx();
  asio::io_context ctx;
  http_client client(ctx, trusting_test_ca());
  for (int i = 0; i < 3; ++i) {
    auto [ec, res] = fetch_sync(ctx, client, request("GET", ng->tls_url("/hello")));
    INFO(ec.message() << "\n" << ng->error_log());
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 200);
    CHECK(res.body() == "Hello, World!");
    CHECK(res.info().reused_connection == (i > 0));
  }
  auto s = client.stats();
  CHECK(s.connections_opened == 1);
  CHECK(s.connections_reused == 2);
  CHECK(s.tls_handshakes == 1);

  auto [e1, big] = fetch_sync(ctx, client, request("GET", ng->tls_url("/1m")));
  REQUIRE_FALSE(e1);
  CHECK(big.body().size() == 1048576);
  CHECK(big.body() == nginx::file_body(1048576));
  auto [e2, chunked] = fetch_sync(ctx, client, request("GET", ng->tls_url("/chunked")));
  REQUIRE_FALSE(e2);
  CHECK(chunked.body() == nginx::chunked_body());
  auto [e3, echo] =
      fetch_sync(ctx, client, request("POST", ng->tls_url("/echo"), {}, std::string(100000, 'e')));
  REQUIRE_FALSE(e3);
  CHECK(echo.body() == std::string(100000, 'e'));
  s = client.stats();
  CHECK(s.connections_opened == 1);  // still the one TLS connection
  CHECK(s.errors == 0);

  // The IP literal verifies against the certificate's IP SAN.
  const std::string by_ip = "https://127.0.0.1:" + std::to_string(ng->tls_port()) + "/hello";
  auto [e4, r4] = fetch_sync(ctx, client, request("GET", by_ip));
  INFO(e4.message());
  REQUIRE_FALSE(e4);
  CHECK(r4.body() == "Hello, World!");
}

TEST_CASE("nginx over TLS: a new connection to the same origin resumes the session",
          "[interop][nginx][tls]") {
  if (!nginx::available()) {
    WARN("skipped: " << nginx::unavailable_reason());
    return;
  }
  struct variant {
    const char* protocol;  // as nginx's $ssl_protocol names it
    const char* config;
  };
  // /tls answers with what nginx saw: the protocol, and "r" when the session was reused ("." if not).
  // nginx 1.22's default ssl_protocols lacks TLSv1.3, so each variant names its protocol. (nginx_options
  // already sets ssl_session_tickets on, so a tickets-off variant cannot be configured.)
  const std::string tls_location =
      "location = /tls { default_type text/plain; return 200 \"$ssl_protocol $ssl_session_reused\"; }";
  for (const variant v :
       {variant{"TLSv1.3", "ssl_protocols TLSv1.3;"}, variant{"TLSv1.2", "ssl_protocols TLSv1.2;"}}) {
    INFO(v.protocol);
    std::unique_ptr<nginx> ng;
    try {
      ng = start_tls_nginx(v.config + tls_location);
    } catch (const std::exception& e) {
      FAIL("nginx failed to start: " << e.what());
    }
    asio::io_context ctx;
    http_client client(ctx, trusting_test_ca());
    for (int i = 0; i < 3; ++i) {
      // nginx answers Connection: close and closes (with close_notify): every request needs a connection.
      auto [ec, res] =
          fetch_sync(ctx, client, request("GET", ng->tls_url("/tls"), {{"Connection", "close"}}));
      INFO(ec.message() << "\n" << ng->error_log());
      REQUIRE_FALSE(ec);
      CHECK(res.body() == std::string(v.protocol) + (i == 0 ? " ." : " r"));
      CHECK(res.headers().get("Connection") == "close");
    }
    const auto s = client.stats();
    CHECK(s.connections_opened == 3);
    CHECK(s.tls_handshakes == 3);
    CHECK(s.tls_resumed == 2);
  }
}
