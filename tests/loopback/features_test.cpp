// Redirects, content decoding and streaming downloads against the in-process test server.
#include <sentinel/http_client.hpp>

#include "support/certs.hpp"
#include "support/client_helpers.hpp"
#include "support/proxy_server.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "support/compress.hpp"

#include <catch2/catch.hpp>

#if SENTINEL_TEST_BROTLI
#include <brotli/encode.h>
#endif
#if SENTINEL_TEST_ZSTD
#include <zstd.h>
#endif

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::test::header_list;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::step;
using sentinel::test::use_tuple;

namespace {

using sentinel::test::deflate_with;

std::tuple<std::error_code, response> fetch(asio::io_context& ctx, http_client& c, request req,
                                            std::chrono::milliseconds deadline = 10s) {
  auto coro = [&c](request r) -> asio::awaitable<std::tuple<std::error_code, response>> {
    co_return co_await c.async_send(std::move(r), use_tuple);
  };
  return run_until(ctx, coro(std::move(req)), deadline);
}

std::string redirect(int status, const std::string& location) {
  return script_server::response(status, "moved", {{"Location", location}});
}

#if SENTINEL_TEST_BROTLI
std::string brotli(const std::string& in) {
  std::string out(BrotliEncoderMaxCompressedSize(in.size()) + 64, '\0');
  std::size_t n = out.size();
  REQUIRE(BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                                reinterpret_cast<const std::uint8_t*>(in.data()), &n,
                                reinterpret_cast<std::uint8_t*>(out.data())) == BROTLI_TRUE);
  out.resize(n);
  return out;
}
#endif

#if SENTINEL_TEST_ZSTD
std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}
#endif

std::string sample_text() {
  std::string s;
  for (int i = 0; i < 2000; ++i)
    s += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
  return s;
}

// Current resident set size in bytes (VmRSS), for the streaming-memory test.
std::size_t current_rss() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

// ---- redirects ----------------------------------------------------------------------------------------

TEST_CASE("redirect chain across two servers: credentials stay with their origin", "[features][redirect]") {
  script_server b([](const received_request& r) {
    if (r.target == "/next") return redirect(307, "/final?x=1");  // relative, same origin
    return script_server::response(200, "final at b");
  });
  script_server a([&](const received_request& r) {
    if (r.target == "/start") return redirect(302, b.url("/next"));  // absolute, another origin
    return script_server::response(404);
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.redirect.follow = true;
  http_client client(ctx, opts);
  request req("GET", a.url("/start"),
              {{"Authorization", "Bearer secret"}, {"Cookie", "s=1"}, {"X-Keep", "yes"}});
  auto [ec, res] = fetch(ctx, client, std::move(req));
  REQUIRE_FALSE(ec);
  CHECK(res.status() == 200);
  CHECK(res.body() == "final at b");
  CHECK(res.url().str() == b.url("/final?x=1"));
  CHECK(res.info().redirects == 2);
  CHECK(client.stats().redirects == 2);

  auto at_a = a.all_requests();
  REQUIRE(at_a.size() == 1);
  CHECK(at_a[0].header("Authorization") == "Bearer secret");
  CHECK(at_a[0].header("Cookie") == "s=1");
  auto at_b = b.all_requests();
  REQUIRE(at_b.size() == 2);
  for (const auto& r : at_b) {
    CHECK_FALSE(r.has_header("Authorization"));
    CHECK_FALSE(r.has_header("Cookie"));
    CHECK(r.header("X-Keep") == "yes");
    CHECK(r.header("Host") == "127.0.0.1:" + std::to_string(b.port()));
  }
  CHECK(at_b[1].target == "/final?x=1");
}

TEST_CASE("redirect method rules", "[features][redirect]") {
  // Only a method change drops the body and the fields that describe it (RFC 9110 §15.4).
  struct row {
    int status;
    const char* method;
    const char* expect_method;
    bool keeps_body;
  };
  const row rows[] = {
      {301, "POST", "GET", false}, {302, "POST", "GET", false}, {303, "POST", "GET", false},
      {303, "PUT", "GET", false},  {303, "HEAD", "HEAD", true}, {307, "POST", "POST", true},
      {308, "PUT", "PUT", true},   {301, "PUT", "PUT", true},   {302, "DELETE", "DELETE", true},
  };
  for (const auto& r : rows) {
    INFO(r.status << " " << r.method);
    const int status = r.status;
    script_server server([status](const received_request& q) {
      if (q.target == "/from") return redirect(status, "/to");
      if (q.method == "HEAD") return std::string("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      return script_server::response(200, q.method + ":" + q.body);
    });
    asio::io_context ctx;
    http_client client(ctx);
    request req(r.method, server.url("/from"), {{"Content-Type", "text/plain"}},
                std::string(r.method) == "HEAD" ? "" : "payload");
    req.options().follow_redirects = true;  // per request: the client's default is off
    auto [ec, res] = fetch(ctx, client, std::move(req));
    REQUIRE_FALSE(ec);
    auto reqs = server.all_requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].method == r.expect_method);
    CHECK(reqs[1].body == (r.keeps_body && std::string(r.method) != "HEAD" ? "payload" : ""));
    CHECK(reqs[1].has_header("Content-Type") == r.keeps_body);
  }
}

TEST_CASE("redirect locations: relative, dot segments, scheme-relative", "[features][redirect]") {
  script_server other(
      [](const received_request& r) { return script_server::response(200, "other" + r.target); });
  script_server server([&](const received_request& r) {
    if (r.target == "/a/b/c") return redirect(302, "../d?q=1");
    if (r.target == "/a/d?q=1") return redirect(302, "//127.0.0.1:" + std::to_string(other.port()) + "/e");
    return script_server::response(404);
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.redirect.follow = true;
  http_client client(ctx, opts);
  auto [ec, res] = fetch(ctx, client, request("GET", server.url("/a/b/c")));
  REQUIRE_FALSE(ec);
  CHECK(res.body() == "other/e");
  CHECK(res.info().redirects == 2);
}

TEST_CASE("redirect limits and errors", "[features][redirect]") {
  script_server server([](const received_request& r) {
    if (r.target == "/loop") return redirect(302, "/loop");
    if (r.target == "/bad") return redirect(302, "http://[::1");
    if (r.target == "/nolocation") return script_server::response(302, "no location");
    return script_server::response(200, "ok");
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.redirect.follow = true;
  opts.redirect.max_redirects = 3;
  http_client client(ctx, opts);
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/loop")));
  CHECK(e1 == error::too_many_redirects);
  CHECK(e1 == sentinel::condition::limit_exceeded);
  CHECK(server.requests_received() == 4);  // the first request plus three redirects
  auto [e2, r2] = fetch(ctx, client, request("GET", server.url("/bad")));
  CHECK(e2 == error::bad_redirect);
  auto [e3, r3] = fetch(ctx, client, request("GET", server.url("/nolocation")));
  REQUIRE_FALSE(e3);  // a 3xx without Location is a final response
  CHECK(r3.status() == 302);
  request off("GET", server.url("/loop"));
  off.options().follow_redirects = false;
  auto [e4, r4] = fetch(ctx, client, std::move(off));
  REQUIRE_FALSE(e4);
  CHECK(r4.status() == 302);
  CHECK(r4.headers().get("Location") == "/loop");
  CHECK(r4.body() == "moved");
  CHECK(server.connections_accepted() == 1);  // redirect bodies were read, so the connection stayed usable
}

// ---- content decoding ---------------------------------------------------------------------------------

TEST_CASE("content decoding: gzip, deflate (both forms), br, zstd", "[features][decoding]") {
  const std::string text = sample_text();
  struct row {
    const char* coding;
    std::string wire;
  };
  std::vector<row> rows = {
      {"gzip", deflate_with(text, 31)},
      {"deflate", deflate_with(text, 15)},
      {"deflate", deflate_with(text, -15)},                         // raw deflate, as some servers send
      {"deflate, gzip", deflate_with(deflate_with(text, 15), 31)},  // applied in order: deflate, then gzip
  };
#if SENTINEL_TEST_BROTLI
  rows.push_back({"br", brotli(text)});
  rows.push_back({"gzip, br", brotli(deflate_with(text, 31))});
#endif
#if SENTINEL_TEST_ZSTD
  rows.push_back({"zstd", zstd(text)});
#endif
  for (const auto& r : rows) {
    INFO(r.coding << " " << r.wire.size() << " bytes on the wire");
    const std::string wire = r.wire, coding = r.coding;
    script_server server([&](const received_request& q) {
      return script_server::response(
          200, wire, {{"Content-Encoding", coding}, {"X-AE", std::string(q.header("Accept-Encoding"))}});
    });
    asio::io_context ctx;
    sentinel::client_options opts;
    opts.decompress = true;
    http_client client(ctx, opts);
    auto [ec, res] = fetch(ctx, client, request("GET", server.url("/")));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == text);
    CHECK_FALSE(res.headers().contains("Content-Encoding"));
    CHECK_FALSE(res.headers().contains("Content-Length"));
    CHECK_THAT(std::string(res.headers().value_or("X-AE", "")),
               Catch::Contains("gzip") && Catch::Contains("deflate"));
  }
}

TEST_CASE("content decoding: chunked gzip, off by default, per request", "[features][decoding]") {
  const std::string text = sample_text();
  const std::string gz = deflate_with(text, 31);
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < gz.size(); i += 333)
    chunks.push_back(gz.substr(i, 333));
  script_server server([&](const received_request&) {
    return script_server::chunked_response(200, chunks, {{"Content-Encoding", "gzip"}});
  });
  asio::io_context ctx;
  http_client client(ctx);  // decompress is off by default
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/")));
  REQUIRE_FALSE(e1);
  CHECK(r1.body() == gz);  // untouched
  CHECK(r1.headers().get("Content-Encoding") == "gzip");
  CHECK_FALSE(server.all_requests()[0].has_header("Accept-Encoding"));
  request req("GET", server.url("/"));
  req.options().decompress = true;
  auto [e2, r2] = fetch(ctx, client, std::move(req));
  REQUIRE_FALSE(e2);
  CHECK(r2.body() == text);
}

TEST_CASE("content decoding failures", "[features][decoding]") {
  std::string bomb_input(16u << 20, '\0');  // 16 MiB of zeros: a few KiB compressed
  const std::string bomb = deflate_with(bomb_input, 31, 9);
  bomb_input.clear();
  const std::string gz = deflate_with(sample_text(), 31);
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] ^= 0x55;
  const std::string truncated = gz.substr(0, gz.size() / 2);
  script_server server([&](const received_request& r) {
    if (r.target == "/bomb") return script_server::response(200, bomb, {{"Content-Encoding", "gzip"}});
    if (r.target == "/corrupt") return script_server::response(200, corrupt, {{"Content-Encoding", "gzip"}});
    if (r.target == "/truncated")
      return script_server::response(200, truncated, {{"Content-Encoding", "gzip"}});
    if (r.target == "/compress")
      return script_server::response(200, "xx", {{"Content-Encoding", "compress"}});
    if (r.target == "/empty") return script_server::response(200, "", {{"Content-Encoding", "gzip"}});
    return script_server::response(200, "fine");
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.decompress = true;
  opts.limits.max_decoded_bytes = 1u << 20;
  http_client client(ctx, opts);
  INFO("bomb is " << bomb.size() << " bytes");
  auto [e1, r1] = fetch(ctx, client, request("GET", server.url("/bomb")));
  CHECK(e1 == error::decoded_too_large);
  auto [e2, r2] = fetch(ctx, client, request("GET", server.url("/corrupt")));
  CHECK(e2 == error::bad_content_encoding);
  auto [e3, r3] = fetch(ctx, client, request("GET", server.url("/truncated")));
  CHECK(e3 == error::bad_content_encoding);
  auto [e4, r4] = fetch(ctx, client, request("GET", server.url("/compress")));
  CHECK(e4 == error::unsupported_content_encoding);
  auto [e5, r5] = fetch(ctx, client, request("GET", server.url("/empty")));
  REQUIRE_FALSE(e5);
  CHECK(r5.body().empty());
  auto [e6, r6] = fetch(ctx, client, request("GET", server.url("/")));
  REQUIRE_FALSE(e6);
  CHECK(r6.body() == "fine");
}

// ---- streaming downloads -------------------------------------------------------------------------------

TEST_CASE("on_head and on_body stream the final response", "[features][streaming]") {
  std::vector<std::string> chunks;
  for (int i = 0; i < 50; ++i)
    chunks.push_back(std::string(1000 + i, static_cast<char>('a' + i % 26)));
  std::string whole;
  for (auto& c : chunks)
    whole += c;
  script_server server([&](const received_request& r) {
    if (r.target == "/redirect") return redirect(302, "/data");
    return script_server::chunked_response(200, chunks, {{"X-Kind", "stream"}});
  });
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.redirect.follow = true;
  opts.limits.max_body_bytes = 100;  // does not apply to a streamed body unless the request sets it
  http_client client(ctx, opts);

  std::string got;
  int heads = 0, pieces = 0;
  request req("GET", server.url("/redirect"));
  req.options().on_head = [&](const response& head) {
    ++heads;
    CHECK(head.status() == 200);  // never the redirect
    CHECK(head.headers().get("X-Kind") == "stream");
    CHECK(got.empty());
    return true;
  };
  req.options().on_body = [&](std::string_view piece) {
    ++pieces;
    got.append(piece);
    return true;
  };
  auto [ec, res] = fetch(ctx, client, std::move(req));
  REQUIRE_FALSE(ec);
  CHECK(heads == 1);
  CHECK(pieces >= 1);
  CHECK(got == whole);
  CHECK(res.body().empty());  // streamed, not collected
  CHECK(res.status() == 200);
}

TEST_CASE("a callback returning false aborts the exchange and retires the connection",
          "[features][streaming]") {
  script_server server(
      [](const received_request&) { return script_server::response(200, std::string(5000, 'x')); });
  asio::io_context ctx;
  http_client client(ctx);
  request a("GET", server.url("/"));
  a.options().on_body = [](std::string_view) { return false; };
  auto [e1, r1] = fetch(ctx, client, std::move(a));
  CHECK(e1 == error::aborted_by_callback);
  request b("GET", server.url("/"));
  b.options().on_head = [](const response& h) { return h.status() != 200; };
  auto [e2, r2] = fetch(ctx, client, std::move(b));
  CHECK(e2 == error::aborted_by_callback);
  auto [e3, r3] = fetch(ctx, client, request("GET", server.url("/")));
  REQUIRE_FALSE(e3);
  CHECK(r3.body().size() == 5000);
  CHECK(server.connections_accepted() == 3);
}

TEST_CASE("a 1 GiB download streams in bounded memory", "[features][streaming]") {
  // A raw server that writes 1 GiB from one 64 KiB block: script_server would build the whole body.
  constexpr std::uint64_t total = 1ull << 30;
  asio::io_context server_ctx;
  asio::ip::tcp::acceptor acceptor(server_ctx, {asio::ip::make_address("127.0.0.1"), 0});
  asio::co_spawn(
      server_ctx,
      [&]() -> asio::awaitable<void> {
        auto sock = co_await acceptor.async_accept(asio::use_awaitable);
        char buf[4096];
        co_await sock.async_read_some(asio::buffer(buf), asio::use_awaitable);  // the request (small)
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n";
        co_await asio::async_write(sock, asio::buffer(head), asio::use_awaitable);
        std::string block(64 * 1024, 'z');
        for (std::uint64_t sent = 0; sent < total; sent += block.size())
          co_await asio::async_write(sock, asio::buffer(block), asio::use_awaitable);
        std::error_code ec;
        co_await sock.async_read_some(asio::buffer(buf),
                                      asio::redirect_error(asio::use_awaitable, ec));  // until close
      },
      asio::detached);
  std::thread server_thread([&] { server_ctx.run(); });

  asio::io_context ctx;
  http_client client(ctx);
  const std::size_t baseline = current_rss();
  std::size_t peak = baseline;
  std::uint64_t received = 0;
  bool bytes_ok = true;
  request req("GET", "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/big");
  req.options().on_body = [&](std::string_view piece) {
    bytes_ok = bytes_ok && piece.find_first_not_of('z') == std::string_view::npos;
    if ((received >> 24) != ((received + piece.size()) >> 24))
      peak = std::max(peak, current_rss());  // every 16 MiB
    received += piece.size();
    return true;
  };
  auto [ec, res] = fetch(ctx, client, std::move(req), 120s);
  server_ctx.stop();
  server_thread.join();
  REQUIRE_FALSE(ec);
  CHECK(received == total);
  CHECK(bytes_ok);
  INFO("RSS grew by " << (peak - baseline) / 1024 << " KiB while streaming 1 GiB");
  CHECK(peak - baseline < (64u << 20));
}

// ---- uploads -------------------------------------------------------------------------------------------

namespace {

std::string temp_file(const std::string& content) {
  char path[] = "/tmp/sentinel-upload-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  ::close(fd);
  return path;
}

// A source that produces `pieces` pieces of `size` bytes ('a', 'b', ...), as many calls as it takes.
request::body_source_fn pieces_source(int pieces, std::size_t size) {
  struct state {
    int piece = 0;
    std::size_t left = 0;
  };
  auto st = std::make_shared<state>();
  st->left = size;
  return [st, pieces, size](std::span<char> buf) -> asio::awaitable<std::size_t> {
    if (st->piece >= pieces) co_return 0;
    const std::size_t n = std::min(st->left, buf.size());
    std::fill_n(buf.data(), n, static_cast<char>('a' + st->piece % 26));
    st->left -= n;
    if (st->left == 0) {
      ++st->piece;
      st->left = size;
    }
    co_return n;
  };
}

std::string pieces_body(int pieces, std::size_t size) {
  std::string s;
  for (int i = 0; i < pieces; ++i)
    s += std::string(size, static_cast<char>('a' + i % 26));
  return s;
}

}  // namespace

TEST_CASE("upload from a file", "[features][upload]") {
  std::string content;
  for (int i = 0; i < 30000; ++i)
    content += std::to_string(i) + ",";
  const std::string path = temp_file(content);
  script_server server(
      [](const received_request& r) { return script_server::response(200, std::to_string(r.body.size())); });
  asio::io_context ctx;
  http_client client(ctx);
  request req("PUT", server.url("/file"));
  req.set_body_file(path);
  auto [ec, res] = fetch(ctx, client, std::move(req));
  REQUIRE_FALSE(ec);
  auto got = server.all_requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == content);
  CHECK(got[0].header("Content-Length") == std::to_string(content.size()));
  CHECK_FALSE(got[0].chunked);
  ::unlink(path.c_str());

  request missing("PUT", server.url("/file"));
  missing.set_body_file("/nonexistent/sentinel-upload");
  auto [e2, r2] = fetch(ctx, client, std::move(missing));
  CHECK(e2 == std::errc::no_such_file_or_directory);
  CHECK(server.requests_received() == 1);  // nothing was sent
}

TEST_CASE("upload from a source: chunked when the length is unknown", "[features][upload]") {
  script_server server(
      [](const received_request& r) { return script_server::response(200, std::to_string(r.body.size())); });
  asio::io_context ctx;
  http_client client(ctx);

  request chunked("POST", server.url("/stream"));
  chunked.set_body_source(pieces_source(5, 100000));
  auto [e1, r1] = fetch(ctx, client, std::move(chunked));
  REQUIRE_FALSE(e1);
  auto got = server.all_requests();
  REQUIRE(got.size() == 1);
  CHECK(got[0].chunked);
  CHECK(got[0].header("Transfer-Encoding") == "chunked");
  CHECK_FALSE(got[0].has_header("Content-Length"));
  CHECK(got[0].body == pieces_body(5, 100000));

  request sized("POST", server.url("/sized"));
  sized.set_body_source(pieces_source(3, 1000), 3000);
  auto [e2, r2] = fetch(ctx, client, std::move(sized));
  REQUIRE_FALSE(e2);
  got = server.all_requests();
  CHECK(got[1].header("Content-Length") == "3000");
  CHECK(got[1].body == pieces_body(3, 1000));

  request liar("POST", server.url("/liar"));
  liar.set_body_source(pieces_source(2, 1000), 3000);  // announces more than it produces
  auto [e3, r3] = fetch(ctx, client, std::move(liar));
  CHECK(e3 == error::invalid_request);

  // The client is healthy afterwards (the lying request's connection was retired).
  auto [e4, r4] = fetch(ctx, client, request("GET", server.url("/after")));
  REQUIRE_FALSE(e4);
}

TEST_CASE("Expect: 100-continue", "[features][upload]") {
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.timeouts.expect_continue = 300ms;
  http_client client(ctx, opts);
  const std::string body(50000, 'e');
  auto make = [&](const std::string& url) {
    request req("POST", url, {}, body);
    req.options().expect_continue = true;
    return req;
  };

  SECTION("the body goes after the 100") {
    script_server server(
        {{step::expect_head(), step::send("HTTP/1.1 100 Continue\r\n\r\n"), step::expect_body(),
          step::send(script_server::response(201, "got it")), step::wait_for_close()}});
    auto [ec, res] = fetch(ctx, client, make(server.url("/up")));
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 201);
    auto got = server.all_requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].header("Expect") == "100-continue");
    CHECK(got[0].body == body);
  }
  SECTION("no answer: the body goes after the wait") {
    script_server server({{step::expect_head(), step::expect_body(),
                           step::send(script_server::response(200, "late")), step::wait_for_close()}});
    const auto start = std::chrono::steady_clock::now();
    auto [ec, res] = fetch(ctx, client, make(server.url("/up")));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "late");
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);
    CHECK(server.all_requests()[0].body == body);
  }
  SECTION("a final answer first: the body is never sent, the connection not reused") {
    script_server server(
        {{step::expect_head(), step::send(script_server::response(413, "too big")), step::wait_for_close()}},
        {step::expect_request(), step::send(script_server::response(200, "next")), step::wait_for_close()});
    auto [ec, res] = fetch(ctx, client, make(server.url("/up")));
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 413);
    CHECK(res.body() == "too big");
    CHECK(server.all_requests()[0].body.empty());
    auto [e2, r2] = fetch(ctx, client, request("GET", server.url("/next")));
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "next");
    CHECK(server.connections_accepted() == 2);
  }
}

// ---- proxies -------------------------------------------------------------------------------------------

TEST_CASE("forward proxy for http://: absolute-form requests, one connection to the proxy",
          "[features][proxy]") {
  script_server a([](const received_request& r) { return script_server::response(200, "a" + r.target); });
  script_server b([](const received_request& r) { return script_server::response(200, "b" + r.target); });
  sentinel::test::proxy_options po;
  po.required_auth = "Basic dXNlcjpwQHNz";  // user:p@ss
  sentinel::test::proxy_server proxy(po);
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.proxy.http_proxy = "http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port());
  http_client client(ctx, opts);
  for (int i = 0; i < 2; ++i) {
    auto [e1, r1] = fetch(ctx, client, request("GET", a.url("/x?q=" + std::to_string(i))));
    REQUIRE_FALSE(e1);
    CHECK(r1.body() == "a/x?q=" + std::to_string(i));
    auto [e2, r2] = fetch(ctx, client, request("POST", b.url("/y"), {}, "body"));
    REQUIRE_FALSE(e2);
    CHECK(r2.body() == "b/y");
  }
  CHECK(proxy.forwarded() == 4);
  CHECK(proxy.connections_accepted() == 1);  // both targets over one keep-alive connection to the proxy
  CHECK(proxy.auth_failures() == 0);
  const auto seen = proxy.requests();
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].target == a.url("/x?q=0"));  // absolute form
  CHECK(seen[0].header("Proxy-Authorization") == "Basic dXNlcjpwQHNz");
  CHECK_FALSE(a.all_requests()[0].has_header("Proxy-Authorization"));  // the proxy's, never the origin's
}

TEST_CASE("CONNECT tunnel for https://, TLS end to end", "[features][proxy]") {
  const auto& certs = sentinel::test::certs();
  sentinel::test::server_options so;
  so.tls = sentinel::test::tls_options{certs.server.cert, certs.server.key, {}};
  script_server target(
      [](const received_request& r) { return script_server::response(200, "secure" + r.target); }, so);
  sentinel::test::proxy_server proxy;
  asio::io_context ctx;
  sentinel::client_options opts;
  opts.tls.ca_file = certs.ca.cert;
  opts.proxy.https_proxy = "127.0.0.1:" + std::to_string(proxy.port());  // no scheme: http:// assumed
  http_client client(ctx, opts);
  const std::string url = "https://localhost:" + std::to_string(target.port());
  for (int i = 0; i < 3; ++i) {
    auto [ec, res] = fetch(ctx, client, request("GET", url + "/t" + std::to_string(i)));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "secure/t" + std::to_string(i));
  }
  CHECK(proxy.connects() == 1);  // one tunnel, reused for all three
  CHECK(proxy.requests()[0].target == "localhost:" + std::to_string(target.port()));
  CHECK(client.stats().tls_handshakes == 1);
}

TEST_CASE("proxy refusals and bypass", "[features][proxy]") {
  script_server direct([](const received_request&) { return script_server::response(200, "direct"); });
  sentinel::test::proxy_options po;
  po.required_auth = "Basic c2VjcmV0OnNlY3JldA==";
  po.refuse_connect = true;
  sentinel::test::proxy_server proxy(po);
  asio::io_context ctx;
  {
    sentinel::client_options opts;
    opts.proxy.https_proxy = proxy.url();
    http_client client(ctx, opts);
    auto [ec, res] =
        fetch(ctx, client, request("GET", "https://localhost:" + std::to_string(direct.port()) + "/"));
    CHECK(ec == error::proxy_error);
  }
  {
    sentinel::client_options opts;
    opts.proxy.http_proxy = proxy.url();  // no credentials: 407 comes back as the response
    http_client client(ctx, opts);
    auto [ec, res] = fetch(ctx, client, request("GET", direct.url("/")));
    REQUIRE_FALSE(ec);
    CHECK(res.status() == 407);
  }
  {
    sentinel::client_options opts;
    opts.proxy.http_proxy = proxy.url();
    opts.proxy.no_proxy = "example.com, 127.0.0.1";
    http_client client(ctx, opts);
    auto [ec, res] = fetch(ctx, client, request("GET", direct.url("/")));
    REQUIRE_FALSE(ec);
    CHECK(res.body() == "direct");
  }
  {
    sentinel::client_options opts;
    opts.proxy.http_proxy = "http://[::1";  // broken
    http_client client(ctx, opts);
    auto [ec, res] = fetch(ctx, client, request("GET", direct.url("/")));
    CHECK(ec == error::invalid_url);
  }
  {
    ::setenv("http_proxy", proxy.url().c_str(), 1);
    ::setenv("no_proxy", "", 1);
    sentinel::client_options opts;
    http_client ignoring(ctx, opts);  // the environment is read only when asked
    auto [e1, r1] = fetch(ctx, ignoring, request("GET", direct.url("/")));
    REQUIRE_FALSE(e1);
    CHECK(r1.body() == "direct");
    opts.proxy.from_environment = true;
    http_client reading(ctx, opts);
    const auto before = proxy.requests_received();
    auto [e2, r2] = fetch(ctx, reading, request("GET", direct.url("/")));
    REQUIRE_FALSE(e2);
    CHECK(r2.status() == 407);  // went to the proxy, which wants credentials
    CHECK(proxy.requests_received() == before + 1);
    ::unsetenv("http_proxy");
    ::unsetenv("no_proxy");
  }
  CHECK(direct.requests_received() == 2);  // the no_proxy request and the one that ignored the environment
}
