// Wire conformance through the whole client (issue 13): bare-LF responses, chunk extensions, multi-member
// gzip bodies and the per-line head limit, against the in-process test server. The parser's and the
// decoder's own tests go byte by byte; these check that the client delivers the same results and keeps
// or retires the connection as it should.
#include <sentinel/http_client.hpp>

#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "support/compress.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <tuple>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::step;

namespace {

using sentinel::test::gzip;

constexpr asio::experimental::as_tuple_t<asio::use_awaitable_t<>> use_tuple{};

std::tuple<std::error_code, response> fetch(asio::io_context& ctx, http_client& c, request req) {
  auto coro = [&c](request r) -> asio::awaitable<std::tuple<std::error_code, response>> {
    co_return co_await c.async_send(std::move(r), use_tuple);
  };
  return run_until(ctx, coro(std::move(req)), 10s);
}

std::string gzip_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("bare LF: LF-only responses parse and keep the connection reusable", "[conformance][loopback]") {
  script_server server([](const received_request& q) -> std::string {
    if (q.target == "/length") return "HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello";
    if (q.target == "/mixed") return "HTTP/1.1 200 OK\r\nA: 1\nContent-Length: 2\r\n\nok";
    return "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n6;x=1\n world\n0\nX-T: 1\n\n";
  });
  asio::io_context ctx;
  http_client client(ctx);
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/length")));
  REQUIRE_FALSE(e1);
  CHECK(r1.body() == "hello");
  CHECK(r1.headers().get("X-A") == "b");
  auto [e2, r2] = fetch(ctx, client, request("GET", server.url("/chunked")));
  REQUIRE_FALSE(e2);
  CHECK(r2.body() == "hello world");
  CHECK(r2.trailers().get("X-T") == "1");
  auto [e3, r3] = fetch(ctx, client, request("GET", server.url("/mixed")));
  REQUIRE_FALSE(e3);
  CHECK(r3.body() == "ok");
  CHECK(r3.headers().get("A") == "1");
  CHECK(server.connections_accepted() == 1);  // every LF-only response left the connection reusable
}

TEST_CASE("bare CR: still an error, and the connection is retired", "[conformance][loopback]") {
  script_server server(
      {{step::expect_request(), step::send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rX: y\r\n\r\n"),
        step::wait_for_close()}},
      {step::expect_request(), step::send(script_server::response(200, "next")), step::wait_for_close()});
  asio::io_context ctx;
  http_client client(ctx);
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/")));
  CHECK(e1 == error::bad_header);
  auto [e2, r2] = fetch(ctx, client, request("GET", server.url("/")));
  REQUIRE_FALSE(e2);
  CHECK(r2.body() == "next");
  CHECK(server.connections_accepted() == 2);
}

TEST_CASE("chunk extensions: quoted strings pass, off-grammar ones fail with bad_chunk",
          "[conformance][loopback]") {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  script_server server([&](const received_request& q) -> std::string {
    if (q.target == "/quoted")
      return head + "5;name=\"a \\\"quoted\\\" ;value\";flag\r\nhello\r\n0;last=\"\"\r\n\r\n";
    return head + "5;name=\"unbalanced\r\nhello\r\n0\r\n\r\n";
  });
  asio::io_context ctx;
  http_client client(ctx);
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/quoted")));
  REQUIRE_FALSE(e1);
  CHECK(r1.body() == "hello");
  auto [e2, r2] = fetch(ctx, client, request("GET", server.url("/unbalanced")));
  CHECK(e2 == error::bad_chunk);
  CHECK(e2 == sentinel::condition::protocol);
  CHECK(std::string(e2.message()).find("chunk extension") != std::string::npos);
}

TEST_CASE("multi-member gzip: every member decoded, the limit counts the total", "[conformance][loopback]") {
  const std::string a(300000, 'a'), b(300000, 'b');
  const std::string two = gzip(a) + gzip(b);
  script_server server([&](const received_request& q) -> std::string {
    if (q.target == "/garbage") return gzip_response(gzip("short\n") + "GARBAGE");
    return gzip_response(two);
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.decompress = true;
  opts.limits.max_decoded_bytes = 500000;  // more than either member, less than both
  http_client client(ctx, opts);
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/two")));
  CHECK(e1 == error::decoded_too_large);

  sentinel::client_options roomy = opts;
  roomy.limits.max_decoded_bytes = 600000;  // exactly both members
  http_client client2(ctx, roomy);
  auto [e2, r2] = fetch(ctx, client2, request("GET", server.url("/two")));
  REQUIRE_FALSE(e2);
  CHECK(r2.body() == a + b);

  auto [e3, r3] = fetch(ctx, client2, request("GET", server.url("/garbage")));
  CHECK(e3 == error::bad_content_encoding);
}

TEST_CASE("max_header_line_bytes from client_options reaches the parser", "[conformance][loopback]") {
  // A 100-byte field line, CRLF included.
  const std::string line = "X-Line: " + std::string(90, 'l') + "\r\n";
  REQUIRE(line.size() == 100);
  script_server server([&](const received_request&) -> std::string {
    return "HTTP/1.1 200 OK\r\n" + line + "Content-Length: 2\r\n\r\nok";
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.limits.max_head_bytes = 4096;
  opts.limits.max_header_line_bytes = 100;
  http_client at(ctx, opts);
  auto [e1, r1] = fetch(ctx, at, request("GET", server.url("/")));
  REQUIRE_FALSE(e1);
  CHECK(r1.body() == "ok");
  opts.limits.max_header_line_bytes = 99;
  http_client below(ctx, opts);
  auto [e2, r2] = fetch(ctx, below, request("GET", server.url("/")));
  CHECK(e2 == error::header_line_too_long);
  CHECK(e2 == sentinel::condition::limit_exceeded);
}
