// https:// against the in-process script_server with the generated certificates: verification on by
// default, one error code per certificate failure, SNI and the IP-address check, client certificates,
// keep-alive, session resumption, and the close_notify rules (a clean close vs a truncation).
#include <sentinel/http_client.hpp>

#include "client/client_access.hpp"
#include "support/certs.hpp"
#include "support/client_helpers.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

using namespace std::chrono_literals;
using sentinel::client_options;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::cert_files;
using sentinel::test::fetch;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::server_options;
using sentinel::test::step;
using sentinel::test::use_tuple;

namespace {

const sentinel::test::test_certs& certs() {
  return sentinel::test::certs();
}

std::tuple<std::error_code, response> fetch_sync(asio::io_context& ctx, http_client& c, std::string url,
                                                 std::chrono::milliseconds deadline = 10s) {
  request req("GET", url);
  return run_until(ctx, fetch(c, std::move(req)), deadline);
}

// A TLS script_server option set serving `f` (and asking for a client certificate when `client_ca`).
server_options serving(const cert_files& f, std::string client_ca = {}) {
  server_options o;
  o.tls = sentinel::test::tls_options{f.cert, f.key, std::move(client_ca)};
  return o;
}

std::unique_ptr<script_server> hello_server(const cert_files& f, std::string client_ca = {}) {
  return std::make_unique<script_server>(
      [](const received_request& r) { return script_server::response(200, "hello " + r.target); },
      serving(f, std::move(client_ca)));
}

// Answers every request with Connection: close, so each request gets a new connection (and handshake).
std::unique_ptr<script_server> closing_server(const cert_files& f, std::string client_ca = {}) {
  return std::make_unique<script_server>(
      [](const received_request& r) {
        return script_server::response(200, "hello " + r.target, {{"Connection", "close"}});
      },
      serving(f, std::move(client_ca)));
}

// Trusts the test CA only (not the system store).
client_options trusting_test_ca() {
  client_options o;
  o.tls.ca_file = certs().ca.cert;
  return o;
}

// "https://localhost:PORT/path": a host name, so SNI and the DNS-name check.
std::string by_name(const script_server& s, std::string_view path = "/") {
  return "https://localhost:" + std::to_string(s.port()) + std::string(path);
}

}  // namespace

TEST_CASE("TLS: a valid certificate verifies against ca_file; SNI names the host; ALPN is http/1.1",
          "[loopback][tls]") {
  asio::io_context ctx;
  http_client client(ctx, trusting_test_ca());
  for (const cert_files* f : {&certs().server, &certs().chained}) {
    INFO(f->cert);
    auto server = hello_server(*f);
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/x"));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 200);
    CHECK(res.body() == "hello /x");
    const auto tls = server->tls_connections();
    REQUIRE(tls.size() == 1);
    CHECK(tls[0].handshake_done);
    CHECK(tls[0].server_name == "localhost");
    CHECK(tls[0].alpn == "http/1.1");
  }
  const auto s = client.stats();
  CHECK(s.tls_handshakes == 2);
  CHECK(s.tls_resumed == 0);  // two origins (two ports): nothing to resume
  CHECK(s.errors == 0);
}

TEST_CASE("TLS: an IP literal is checked against the IP SAN and sends no SNI", "[loopback][tls]") {
  asio::io_context ctx;
  http_client client(ctx, trusting_test_ca());
  auto server = hello_server(certs().server);
  REQUIRE(server->url("/ip").rfind("https://127.0.0.1:", 0) == 0);
  auto [ec, res] = fetch_sync(ctx, client, server->url("/ip"));
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  CHECK(res.body() == "hello /ip");
  const auto tls = server->tls_connections();
  REQUIRE(tls.size() == 1);
  CHECK(tls[0].handshake_done);
  CHECK(tls[0].server_name.empty());  // RFC 6066 §3: no IP literals in server_name
  CHECK(tls[0].alpn == "http/1.1");

  SECTION("a certificate without that IP fails with host_mismatch") {
    auto wrong = hello_server(certs().wrong_host);
    auto [e2, r2] = fetch_sync(ctx, client, wrong->url("/"));
    CHECK(e2 == error::certificate_host_mismatch);
  }
  SECTION("IPv6 literal") {
    server_options o = serving(certs().server);
    o.ipv6 = true;
    std::unique_ptr<script_server> v6;
    try {
      v6 = std::make_unique<script_server>(
          [](const received_request&) { return script_server::response(200, "six"); }, o);
    } catch (const std::exception& e) {
      WARN("skipped: cannot listen on ::1: " << e.what());
      return;
    }
    auto [e3, r3] = fetch_sync(ctx, client, v6->url("/"));
    INFO(e3.message());
    REQUIRE_FALSE(e3);
    CHECK(r3.body() == "six");
    CHECK(v6->tls_connections().at(0).server_name.empty());
  }
}

TEST_CASE("TLS: each certificate failure has its own code, and the client stays healthy", "[loopback][tls]") {
  struct bad_case {
    const cert_files* cert;
    error expected;
    const char* says;  // a word the message must contain
  };
  const bad_case cases[] = {
      {&certs().expired, error::certificate_expired, "expired"},
      {&certs().wrong_host, error::certificate_host_mismatch, "host"},
      {&certs().self_signed, error::certificate_self_signed, "self-signed"},
      {&certs().untrusted, error::certificate_untrusted, "trusted CA"},
  };
  asio::io_context ctx;
  http_client client(ctx, trusting_test_ca());
  auto good = hello_server(certs().server);
  std::uint64_t failures = 0;
  for (const auto& c : cases) {
    for (const bool ip : {false, true}) {
      INFO(c.cert->cert << (ip ? " via 127.0.0.1" : " via localhost"));
      auto server = hello_server(*c.cert);
      const auto before = client.stats();
      auto [ec, res] = fetch_sync(ctx, client, ip ? server->url("/") : by_name(*server));
      INFO(ec.message());
      CHECK(ec == c.expected);
      CHECK(ec == sentinel::condition::tls);
      CHECK_THAT(ec.message(), Catch::Contains(c.says));
      CHECK(res.status() == 0);
      ++failures;
      CHECK(server->wait_for_closed(1));
      CHECK(server->tls_handshake_failures() == 1);
      CHECK(server->requests_received() == 0);  // nothing was sent over an unverified connection
      // The failed connection is gone: what is open is the good server's keep-alive connection.
      const auto s = client.stats();
      CHECK(s.open_connections == before.open_connections);
      CHECK(s.idle_connections == before.idle_connections);
      CHECK(s.errors == failures);
      // ... and the same client still works.
      auto [e2, r2] = fetch_sync(ctx, client, by_name(*good, "/after"));
      REQUIRE_FALSE(e2);
      CHECK(r2.body() == "hello /after");
    }
  }
  CHECK(client.stats().open_connections == 1);  // the good server's keep-alive connection
}

TEST_CASE("TLS: requests queued behind a failing handshake fail too, and free their slots",
          "[loopback][tls]") {
  // max_per_origin = 1: the second and third requests wait for the first connection's slot.
  const auto send_three = [](sentinel::http_version version, script_server& server) {
    asio::io_context ctx;
    client_options o = trusting_test_ca();
    o.pool.max_per_origin = 1;
    o.version = version;
    http_client client(ctx, o);
    std::vector<std::error_code> results;
    for (int i = 0; i < 3; ++i) {
      request req("GET", by_name(server));
      client.async_send(std::move(req), [&](std::error_code ec, response) { results.push_back(ec); });
    }
    ctx.run_for(10s);  // returns once all three completed (nothing else is pending)
    ctx.restart();
    REQUIRE(results.size() == 3);
    for (const auto& ec : results)
      CHECK(ec == error::certificate_expired);
    CHECK(client.stats().open_connections == 0);
  };
  auto server = hello_server(certs().expired);
  SECTION("HTTP/1.1: each gets its own connection attempt and its own certificate error") {
    send_three(sentinel::http_version::http1_1, *server);
    CHECK(server->wait_for_closed(3));
    CHECK(server->tls_handshake_failures() == 3);
  }
  SECTION("h2 offered (the default): they waited for the one connection that could carry them all") {
    send_three(sentinel::http_version::http2, *server);
    const std::size_t attempts = sentinel::http2_built ? 1 : 3;  // without HTTP/2 the offer is HTTP/1.1's
    CHECK(server->wait_for_closed(attempts));
    CHECK(server->tls_handshake_failures() == attempts);
  }
}

TEST_CASE("TLS: verification is on by default, against the system trust store", "[loopback][tls]") {
  // The test CA is in no system store: a default client must refuse the server.
  asio::io_context ctx;
  http_client client(ctx);
  auto server = hello_server(certs().server);
  auto [ec, res] = fetch_sync(ctx, client, by_name(*server));
  INFO(ec.message());
  CHECK(ec == error::certificate_untrusted);
  CHECK(server->requests_received() == 0);
}

TEST_CASE("TLS: ca_path (a hashed directory) is a trust anchor too", "[loopback][tls]") {
  // c_rehash layout: <subject hash>.0 holding the CA certificate.
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(certs().ca.cert.c_str(), "r"), &std::fclose);
  REQUIRE(in);
  std::unique_ptr<X509, void (*)(X509*)> ca(PEM_read_X509(in.get(), nullptr, nullptr, nullptr), &X509_free);
  REQUIRE(ca);
  char name[32];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(ca.get()));
  const auto dir = std::filesystem::path(certs().dir) / "hashed";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(certs().ca.cert, dir / name, std::filesystem::copy_options::overwrite_existing);

  client_options o;
  o.tls.ca_path = dir.string();
  asio::io_context ctx;
  http_client client(ctx, o);
  auto server = hello_server(certs().server);
  auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/hashed"));
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  CHECK(res.body() == "hello /hashed");
}

TEST_CASE("TLS: an unreadable CA file fails every https request", "[loopback][tls]") {
  client_options o;
  o.tls.ca_file = certs().dir + "/no-such-file.pem";
  asio::io_context ctx;
  http_client client(ctx, o);
  auto server = hello_server(certs().server);
  for (int i = 0; i < 2; ++i) {
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server));
    INFO(ec.message());
    // The error of loading the file passes through (OpenSSL 3 reports the errno).
    CHECK(ec.category() == asio::error::get_system_category());
    CHECK(ec.value() == ENOENT);
  }
  CHECK(server->requests_received() == 0);
  CHECK(client.stats().open_connections == 0);
}

TEST_CASE("TLS: insecure_skip_verify accepts any certificate for any host", "[loopback][tls]") {
  client_options o;
  o.tls.insecure_skip_verify = true;  // the only test that turns verification off
  asio::io_context ctx;
  http_client client(ctx, o);
  for (const cert_files* f :
       {&certs().expired, &certs().wrong_host, &certs().self_signed, &certs().untrusted}) {
    INFO(f->cert);
    auto server = hello_server(*f);
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/anyway"));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "hello /anyway");
    CHECK(server->tls_connections().at(0).server_name == "localhost");  // SNI is still sent
  }
}

TEST_CASE("TLS: a client certificate, when the server requires one", "[loopback][tls]") {
  asio::io_context ctx;
  auto server = closing_server(certs().server, certs().ca.cert);
  SECTION("with cert_file and key_file: accepted, and resumed on the next connection") {
    client_options o = trusting_test_ca();
    o.tls.cert_file = certs().client.cert;
    o.tls.key_file = certs().client.key;
    http_client client(ctx, o);
    for (int i = 0; i < 2; ++i) {
      auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/mtls"));
      INFO(ec.message());
      REQUIRE_FALSE(ec);
      CHECK(res.body() == "hello /mtls");
    }
    CHECK(server->connections_accepted() == 2);
    CHECK(client.stats().tls_resumed == 1);
  }
  SECTION("without: the server's refusal is a TLS error, not a response") {
    http_client client(ctx, trusting_test_ca());
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/mtls"));
    INFO(ec.message());
    // TLS 1.3: the client finishes its side of the handshake before the server checks; the server's
    // alert (certificate_required) then ends the first read. OpenSSL's code passes through.
    CHECK(ec.category() == asio::error::get_ssl_category());
    CHECK(ec == sentinel::condition::tls);
    CHECK_THAT(ec.message(), Catch::Contains("certificate required"));
    CHECK(res.status() == 0);
    CHECK(server->wait_for_closed(1));
    CHECK(server->tls_handshake_failures() == 1);
    CHECK(server->requests_received() == 0);
    CHECK(client.stats().open_connections == 0);
  }
  SECTION("a key that cannot be loaded fails every request") {
    client_options o = trusting_test_ca();
    o.tls.cert_file = certs().client.cert;
    o.tls.key_file = certs().dir + "/no-such-key.pem";
    http_client client(ctx, o);
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/mtls"));
    INFO(ec.message());
    CHECK(ec.category() == asio::error::get_system_category());
    CHECK(ec.value() == ENOENT);
    CHECK(server->requests_received() == 0);
  }
}

TEST_CASE("TLS: keep-alive reuses one TLS connection", "[loopback][tls]") {
  asio::io_context ctx;
  http_client client(ctx, trusting_test_ca());
  auto server = hello_server(certs().server);
  for (int i = 0; i < 3; ++i) {
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server, "/k" + std::to_string(i)));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "hello /k" + std::to_string(i));
    CHECK(res.info().reused_connection == (i > 0));
  }
  CHECK(server->connections_accepted() == 1);
  const auto s = client.stats();
  CHECK(s.connections_opened == 1);
  CHECK(s.connections_reused == 2);
  CHECK(s.tls_handshakes == 1);
  CHECK(s.idle_connections == 1);
}

TEST_CASE("TLS: large bodies both ways, and a redirect from http:// to https://", "[loopback][tls]") {
  asio::io_context ctx;
  auto server = std::make_unique<script_server>(
      [](const received_request& r) {
        if (r.method == "POST")
          return script_server::response(200, std::to_string(r.body.size()) + " " + r.body.substr(0, 3));
        return script_server::response(200, std::string(1 << 20, 'b'));
      },
      serving(certs().server));
  client_options o = trusting_test_ca();
  o.redirect.follow = true;
  http_client client(ctx, o);
  // The body goes out in several TLS records (more than Asio gathers into one write).
  request post("POST", by_name(*server, "/up"), {}, std::string(200000, 'p'));
  auto [e1, r1] = run_until(ctx, fetch(client, std::move(post)));
  INFO(e1.message());
  REQUIRE_FALSE(e1);
  CHECK(r1.body() == "200000 ppp");
  auto [e2, r2] = fetch_sync(ctx, client, by_name(*server, "/down"));
  REQUIRE_FALSE(e2);
  CHECK(r2.body() == std::string(1 << 20, 'b'));
  CHECK(client.stats().connections_opened == 1);

  const std::string target = by_name(*server, "/down");
  script_server plain([&](const received_request&) {
    return script_server::response(302, "", {{"Location", target}});
  });
  auto [e3, r3] = fetch_sync(ctx, client, plain.url("/start"));
  INFO(e3.message());
  REQUIRE_FALSE(e3);
  CHECK(r3.status() == 200);
  CHECK(r3.body().size() == 1u << 20);
  CHECK(r3.info().redirects == 1);
  CHECK(server->requests_received() == 3);
}

TEST_CASE("TLS: the second connection to an origin resumes the session", "[loopback][tls]") {
  asio::io_context ctx;
  SECTION("the server closes after each response (Connection: close)") {
    auto server_ptr = closing_server(certs().server);
    auto& server = *server_ptr;
    http_client client(ctx, trusting_test_ca());
    for (int i = 0; i < 3; ++i) {
      auto [ec, res] = fetch_sync(ctx, client, by_name(server));
      INFO(ec.message());
      REQUIRE_FALSE(ec);
      CHECK(res.body() == "hello /");
    }
    const auto s = client.stats();
    CHECK(s.connections_opened == 3);
    CHECK(s.tls_handshakes == 3);
    CHECK(s.tls_resumed == 2);  // SSL_session_reused on the client ...
    const auto tls = server.tls_connections();
    REQUIRE(tls.size() == 3);
    CHECK_FALSE(tls[0].resumed);  // ... and on the server
    CHECK(tls[1].resumed);
    CHECK(tls[2].resumed);
  }
  SECTION("one connection at a time (max_per_origin = 1); the server closes while idle") {
    script_server server(
        {}, {step::expect_request(), step::send(script_server::response(200, "bye")), step::close()},
        serving(certs().server));
    client_options o = trusting_test_ca();
    o.pool.max_per_origin = 1;
    http_client client(ctx, o);
    auto [e1, r1] = fetch_sync(ctx, client, server.url("/"));
    REQUIRE_FALSE(e1);
    REQUIRE(server.wait_for_closed(1));
    auto [e2, r2] = fetch_sync(ctx, client, server.url("/"));
    INFO(e2.message());
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "bye");
    CHECK_FALSE(r2.info().reused_connection);
    CHECK(client.stats().tls_resumed == 1);
    CHECK(server.tls_connections().at(1).resumed);
  }
  SECTION("sessions belong to their origin: another origin on the same server does not resume") {
    auto server_ptr = closing_server(certs().server);
    auto& server = *server_ptr;
    http_client client(ctx, trusting_test_ca());
    auto [e1, r1] = fetch_sync(ctx, client, by_name(server));
    REQUIRE_FALSE(e1);
    auto [e2, r2] = fetch_sync(ctx, client, server.url("/"));  // https://127.0.0.1:PORT: another origin
    REQUIRE_FALSE(e2);
    CHECK(client.stats().tls_resumed == 0);
    auto [e3, r3] = fetch_sync(ctx, client, by_name(server));
    REQUIRE_FALSE(e3);
    CHECK(client.stats().tls_resumed == 1);
  }
  SECTION("each http_client has its own context: sessions are not shared between clients") {
    auto server_ptr = closing_server(certs().server);
    auto& server = *server_ptr;
    http_client a(ctx, trusting_test_ca());
    http_client b(ctx, trusting_test_ca());
    auto [e1, r1] = fetch_sync(ctx, a, by_name(server));
    REQUIRE_FALSE(e1);
    auto [e2, r2] = fetch_sync(ctx, b, by_name(server));
    REQUIRE_FALSE(e2);
    CHECK(b.stats().tls_resumed == 0);
    SSL_CTX* ca = sentinel::detail::client_access::core(a).tls().native().native_handle();
    SSL_CTX* cb = sentinel::detail::client_access::core(b).tls().native().native_handle();
    CHECK(ca != cb);
    CHECK(SSL_CTX_get_min_proto_version(ca) == TLS1_2_VERSION);
  }
}

TEST_CASE("TLS: close_notify, truncation and framing", "[loopback][tls]") {
  asio::io_context ctx;
  http_client client(ctx, trusting_test_ca());
  const auto opts = serving(certs().server);
  SECTION("a complete Content-Length response, then a close without close_notify: success") {
    script_server server(
        {{step::expect_request(), step::send(script_server::response(200, "complete")),
          step::close_without_notify()}},
        {step::expect_request(), step::send(script_server::response(200, "next")), step::wait_for_close()},
        opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "complete");
    REQUIRE(server.wait_for_closed(1));
    // The pooled connection is dead; the next request notices and opens a new one.
    auto [e2, r2] = fetch_sync(ctx, client, server.url("/"));
    INFO(e2.message());
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "next");
    CHECK(client.stats().retries == 0);
  }
  SECTION("the same with Connection: close") {
    script_server server({{step::expect_request(),
                           step::send(script_server::response(200, "complete", {{"Connection", "close"}})),
                           step::close_without_notify()}},
                         {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "complete");
  }
  SECTION("a chunked response complete, then a close without close_notify: success") {
    script_server server(
        {{step::expect_request(), step::send(script_server::chunked_response(200, {"ab", "cd"})),
          step::close_without_notify()}},
        {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "abcd");
  }
  SECTION("a Content-Length body cut short without close_notify: unexpected_eof") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
          step::close_without_notify()}},
        {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    CHECK(ec == error::unexpected_eof);
    CHECK(ec == sentinel::condition::connection_lost);
    CHECK(res.status() == 0);
  }
  SECTION("a Content-Length body cut short even with close_notify: unexpected_eof") {
    script_server server({{step::expect_request(),
                           step::send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), step::close()}},
                         {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    CHECK(ec == error::unexpected_eof);
  }
  SECTION("a chunked body cut short without close_notify: unexpected_eof") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
          step::close_without_notify()}},
        {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    CHECK(ec == error::unexpected_eof);
  }
  SECTION("a close-delimited body ended by close_notify: success") {
    script_server server(
        {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\n\r\nuntil close"), step::close()}}, {},
        opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "until close");
    CHECK(client.stats().idle_connections == 0);
  }
  SECTION("a close-delimited body ended without close_notify: unexpected_eof (it may be cut short)") {
    script_server server({{step::expect_request(), step::send("HTTP/1.1 200 OK\r\n\r\nuntil close"),
                           step::close_without_notify()}},
                         {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    CHECK(ec == error::unexpected_eof);
    CHECK(res.status() == 0);
  }
  SECTION("no byte at all, then a close without close_notify: empty_reply") {
    script_server server({{step::expect_request(), step::close_without_notify()}}, {}, opts);
    auto [ec, res] = fetch_sync(ctx, client, server.url("/"));
    CHECK(ec == error::empty_reply);
  }
  CHECK(client.stats().open_connections <= 1);
}

TEST_CASE("TLS: the client sends close_notify when it closes a connection", "[loopback][tls]") {
  asio::io_context ctx;
  auto server = hello_server(certs().server);
  {
    http_client client(ctx, trusting_test_ca());
    auto [ec, res] = fetch_sync(ctx, client, by_name(*server));
    REQUIRE_FALSE(ec);
    CHECK(client.stats().idle_connections == 1);
  }                 // the destructor closes the idle connection gracefully
  ctx.run_for(5s);  // returns as soon as the shutdown finished (it is bounded by 1 s)
  ctx.restart();
  REQUIRE(server->wait_for_closed(1));
  const auto tls = server->tls_connections();
  REQUIRE(tls.size() == 1);
  CHECK(tls[0].close_notify_received);
}

TEST_CASE("TLS: handshake failures that are not about certificates", "[loopback][tls]") {
  asio::io_context ctx;
  SECTION("a server that never answers the handshake: connect_timeout") {
    script_server plain({{step::stall_forever()}});  // plain TCP: it never sends a ServerHello
    client_options o = trusting_test_ca();
    o.timeouts.connect = 300ms;
    http_client client(ctx, o);
    const std::string url = "https://127.0.0.1:" + std::to_string(plain.port()) + "/";
    auto [ec, res] = fetch_sync(ctx, client, url);
    CHECK(ec == error::connect_timeout);
    CHECK(client.stats().open_connections == 0);
  }
  SECTION("a plain HTTP server on an https URL: a TLS error naming the cause") {
    script_server plain(
        {{step::send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), step::wait_for_close()}});
    http_client client(ctx, trusting_test_ca());
    const std::string url = "https://127.0.0.1:" + std::to_string(plain.port()) + "/";
    auto [ec, res] = fetch_sync(ctx, client, url);
    INFO(ec.message());
    CHECK(ec == sentinel::condition::tls);
    CHECK_FALSE(ec.message().empty());
    CHECK(client.stats().open_connections == 0);
  }
  SECTION("a server that closes during the handshake: tls_handshake_failed") {
    script_server plain({{step::close()}});
    http_client client(ctx, trusting_test_ca());
    const std::string url = "https://127.0.0.1:" + std::to_string(plain.port()) + "/";
    auto [ec, res] = fetch_sync(ctx, client, url);
    INFO(ec.message());
    CHECK(ec == error::tls_handshake_failed);
    CHECK(ec == sentinel::condition::tls);
    CHECK(client.stats().open_connections == 0);
  }
}
