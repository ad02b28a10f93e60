// Self-test of tests/support: every helper exercised with plain Asio sockets (no sentinel client code).
#include "support/certs.hpp"
#include "support/fd_count.hpp"
#include "support/nginx.hpp"
#include "support/proxy_server.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

using namespace std::chrono_literals;
using asio::use_awaitable;
using asio::ip::tcp;
using sentinel::test::header_list;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::server_options;
using sentinel::test::step;
using tls_stream = asio::ssl::stream<tcp::socket>;
using clock_type = std::chrono::steady_clock;

namespace {

struct read_result {
  std::string data;
  std::error_code ec;
};

asio::awaitable<void> connect(tcp::socket& s, unsigned short port, bool v6 = false) {
  tcp::endpoint ep(v6 ? asio::ip::address(asio::ip::address_v6::loopback())
                      : asio::ip::address(asio::ip::address_v4::loopback()),
                   port);
  co_await s.async_connect(ep, use_awaitable);
}

template <class Stream>
asio::awaitable<void> write_all(Stream& s, std::string_view bytes) {
  co_await asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), use_awaitable);
}

// Reads until the stream ends; the error says how it ended (eof, connection_reset, ...).
template <class Stream>
asio::awaitable<read_result> read_to_end(Stream& s) {
  read_result r;
  char buf[4096];
  for (;;) {
    std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, r.ec));
    r.data.append(buf, n);
    if (r.ec) break;
  }
  co_return r;
}

std::size_t content_length(std::string_view head) {
  std::string lower(head);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t pos = lower.find("\r\ncontent-length:");
  if (pos == std::string::npos) return 0;
  return std::stoul(lower.substr(pos + 17));
}

// Reads one response framed by Content-Length (or nothing, for HEAD/204/304) from `s`; `buf` carries
// bytes that arrived early (pipelining) from one call to the next.
template <class Stream>
asio::awaitable<std::string> read_response(Stream& s, std::string& buf, bool body_expected = true) {
  char tmp[4096];
  std::size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    std::size_t n = co_await s.async_read_some(asio::buffer(tmp), use_awaitable);
    buf.append(tmp, n);
  }
  std::size_t total = head_end + 4 + (body_expected ? content_length(buf.substr(0, head_end + 2)) : 0);
  while (buf.size() < total) {
    std::size_t n = co_await s.async_read_some(asio::buffer(tmp), use_awaitable);
    buf.append(tmp, n);
  }
  std::string out = buf.substr(0, total);
  buf.erase(0, total);
  co_return out;
}

std::string body_of(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

// Decodes a chunked body that starts at `body`; returns the payload and counts the chunks.
std::string dechunk(std::string_view body, int& chunks) {
  std::string out;
  chunks = 0;
  for (;;) {
    std::size_t eol = body.find("\r\n");
    REQUIRE(eol != std::string_view::npos);
    std::size_t size = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
    body.remove_prefix(eol + 2);
    if (size == 0) break;
    ++chunks;
    out.append(body.substr(0, size));
    body.remove_prefix(size + 2);
  }
  return out;
}

asio::ssl::context client_context(const std::string& ca_file,
                                  const sentinel::test::cert_files* client = nullptr) {
  asio::ssl::context c(asio::ssl::context::tls_client);
  c.load_verify_file(ca_file);
  c.set_verify_mode(asio::ssl::verify_peer);
  if (client != nullptr) {
    c.use_certificate_chain_file(client->cert);
    c.use_private_key_file(client->key, asio::ssl::context::pem);
  }
  return c;
}

// Connects, handshakes with SNI and host name verification for `host`, sends a GET and reads the reply.
// Returns the handshake error, or the response.
struct tls_result {
  std::error_code handshake;
  std::string response;
  std::error_code end;  // how the stream ended after a Connection: close request
};

asio::awaitable<tls_result> tls_get(unsigned short port, asio::ssl::context& ctx, std::string host,
                                    std::string target = "/") {
  tls_result r;
  tls_stream s(co_await asio::this_coro::executor, ctx);
  SSL_set_tlsext_host_name(s.native_handle(), host.c_str());
  s.set_verify_callback(asio::ssl::host_name_verification(host));
  co_await connect(s.next_layer(), port);
  co_await s.async_handshake(asio::ssl::stream_base::client,
                             asio::redirect_error(use_awaitable, r.handshake));
  if (r.handshake) co_return r;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  co_await write_all(s, req);
  read_result rr = co_await read_to_end(s);
  r.response = std::move(rr.data);
  r.end = rr.ec;
  co_return r;
}

std::string hello_handler(const received_request& r) {
  return script_server::response(200, "hello " + r.target, {{"Content-Type", "text/plain"}});
}

}  // namespace

// ---- run_until ------------------------------------------------------------------------------------------

TEST_CASE("run_until returns values, rethrows, and leaves the context reusable", "[support]") {
  asio::io_context ctx;
  auto answer = []() -> asio::awaitable<int> { co_return 42; };
  CHECK(run_until(ctx, answer()) == 42);
  auto thrower = []() -> asio::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  };
  CHECK_THROWS_WITH(run_until(ctx, thrower()), "boom");
  // Unrelated pending work (a long timer) must not keep run_until from returning.
  asio::steady_timer long_timer(ctx, 1h);
  long_timer.async_wait([](std::error_code) {});
  auto short_wait = []() -> asio::awaitable<std::string> {
    asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
    co_await t.async_wait(use_awaitable);
    co_return "done";
  };
  auto start = clock_type::now();
  CHECK(run_until(ctx, short_wait(), 2s) == "done");
  CHECK(clock_type::now() - start < 1s);
  CHECK(run_until(ctx, answer()) == 42);
}

TEST_CASE("run_until FAILs (and does not hang) when the deadline passes", "[support][!shouldfail]") {
  asio::io_context ctx;
  auto forever = []() -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 1h);
    co_await t.async_wait(use_awaitable);  // the terminal cancel after the deadline ends this wait
  };
  run_until(ctx, forever(), 100ms);
}

// ---- script mode ----------------------------------------------------------------------------------------

TEST_CASE("script: send then close gives the bytes and EOF", "[support]") {
  script_server srv({{step::send("hello"), step::close()}});
  asio::io_context ctx;
  auto r = run_until(ctx, [&]() -> asio::awaitable<read_result> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    co_return co_await read_to_end(s);
  }());
  CHECK(r.data == "hello");
  CHECK(r.ec == asio::error::eof);
  CHECK(srv.wait_for_closed(1));
  CHECK(srv.connections_accepted() == 1);
}

TEST_CASE("script: reset gives ECONNRESET to a reader", "[support]") {
  script_server srv({{step::send("x"), step::stall(50ms), step::reset()}});
  asio::io_context ctx;
  auto r = run_until(ctx, [&]() -> asio::awaitable<read_result> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    co_return co_await read_to_end(s);
  }());
  CHECK(r.data == "x");
  CHECK(r.ec == asio::error::connection_reset);
}

TEST_CASE("script: send_drip spaces the bytes and stall delays them", "[support]") {
  script_server srv(
      {{step::send_drip("abcde", 40ms), step::close()}, {step::stall(200ms), step::send("late")}});
  asio::io_context ctx;
  auto drip = run_until(ctx, [&]() -> asio::awaitable<std::pair<read_result, int>> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    read_result r;
    int reads = 0;
    char buf[64];
    for (;;) {
      std::size_t n =
          co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, r.ec));
      if (n > 0) ++reads;
      r.data.append(buf, n);
      if (r.ec) break;
    }
    co_return std::pair{r, reads};
  }());
  CHECK(drip.first.data == "abcde");
  CHECK(drip.second >= 2);  // one byte per write, 40 ms apart: reads cannot coalesce them all

  auto start = clock_type::now();
  auto late = run_until(ctx, [&]() -> asio::awaitable<read_result> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    co_return co_await read_to_end(s);
  }());
  CHECK(late.data == "late");
  CHECK(late.ec == asio::error::eof);  // a script that runs out of steps closes gracefully
  CHECK(clock_type::now() - start >= 180ms);
}

TEST_CASE("script: expect_request records Content-Length and chunked requests", "[support]") {
  const std::string reply = script_server::response(200, "ok");
  script_server srv({{step::expect_request(), step::send(reply), step::expect_request(), step::send(reply)}});
  const std::string post =
      "POST /upload?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Two: 1\r\nx-two: 2\r\n\r\nhello";
  const std::string chunked =
      "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: "
      "v\r\n\r\n";
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    std::string buf;
    // Split mid-head and mid-body so the server has to assemble the request from several reads.
    co_await write_all(s, std::string_view(post).substr(0, 20));
    asio::steady_timer t(s.get_executor(), 20ms);
    co_await t.async_wait(use_awaitable);
    co_await write_all(s, std::string_view(post).substr(20));
    std::string reply1 = co_await read_response(s, buf);
    CHECK(body_of(reply1) == "ok");
    co_await write_all(s, chunked);
    std::string reply2 = co_await read_response(s, buf);
    CHECK(body_of(reply2) == "ok");
  }());
  REQUIRE(srv.wait_for_requests(2));
  auto reqs = srv.requests_on(0);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].target == "/upload?x=1");
  CHECK(reqs[0].version == "HTTP/1.1");
  CHECK(reqs[0].header("content-length") == "5");
  CHECK(reqs[0].header_count("X-Two") == 2);
  CHECK(reqs[0].header("x-TWO") == "1");
  CHECK(reqs[0].body == "hello");
  CHECK(reqs[0].raw == post);
  CHECK(reqs[1].chunked);
  CHECK(reqs[1].body == "abcde");
  CHECK(reqs[1].raw == chunked);
  CHECK(reqs[1].sequence == 1);
  CHECK(srv.all_requests().size() == 2);
}

TEST_CASE("script: expect_head and expect_body script a 100-continue exchange", "[support]") {
  script_server srv({{step::expect_head(), step::send("HTTP/1.1 100 Continue\r\n\r\n"), step::expect_body(),
                      step::send(script_server::response(200, "got it"))}});
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    co_await write_all(s,
                       "POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    std::string buf;
    std::string interim = co_await read_response(s, buf, false);
    CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
    CHECK(srv.requests_received() == 1);  // the head is recorded before the body arrives
    co_await write_all(s, "abc");
    std::string final_reply = co_await read_response(s, buf);
    CHECK(body_of(final_reply) == "got it");
  }());
  auto reqs = srv.requests_on(0);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].body == "abc");
  CHECK(reqs[0].raw.size() == reqs[0].raw.find("\r\n\r\n") + 4 + 3);
}

TEST_CASE("script: expect_nothing counts bytes sent too early, and keeps them", "[support]") {
  const auto script = [] {
    return std::vector<sentinel::test::script>{
        {step::expect_head(), step::expect_nothing(200ms), step::send("HTTP/1.1 100 Continue\r\n\r\n"),
         step::expect_body(), step::send(script_server::response(200, "got it"))}};
  };
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  auto exchange = [&](script_server& srv, bool body_with_head, std::chrono::milliseconds body_delay) {
    asio::io_context ctx;
    run_until(ctx, [&]() -> asio::awaitable<void> {
      tcp::socket s(co_await asio::this_coro::executor);
      co_await connect(s, srv.port());
      const std::string first = body_with_head ? head + "abc" : head;  // named: g++ 12, style.md §0
      co_await write_all(s, first);
      std::string buf;
      if (!body_with_head && body_delay.count() > 0) {
        asio::steady_timer t(s.get_executor(), body_delay);
        co_await t.async_wait(asio::use_awaitable);
        co_await write_all(s, "abc");
      }
      const std::string interim = co_await read_response(s, buf, false);
      CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
      if (!body_with_head && body_delay.count() == 0) co_await write_all(s, "abc");
      const std::string final_reply = co_await read_response(s, buf);
      CHECK(body_of(final_reply) == "got it");
    }());
    const auto reqs = srv.requests_on(0);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].body == "abc");  // the bytes counted stay for expect_body
  };
  SECTION("the body waits for the 100: nothing counted") {
    script_server srv(script());
    exchange(srv, false, 0ms);
    CHECK(srv.unexpected_bytes() == 0);
  }
  SECTION("the body came with the head") {
    script_server srv(script());
    exchange(srv, true, 0ms);
    CHECK(srv.unexpected_bytes() == 3);
  }
  SECTION("the body came during the wait") {
    script_server srv(script());
    exchange(srv, false, 50ms);
    CHECK(srv.unexpected_bytes() == 3);
  }
}

TEST_CASE("response builders", "[support]") {
  CHECK(script_server::response(404, "no", {{"X-A", "1"}}) ==
        "HTTP/1.1 404 Not Found\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nno");
  CHECK(script_server::response(200, "", {{"content-length", "99"}}) ==
        "HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n");
  CHECK(
      script_server::chunked_response(200, {"ab", "", std::string(17, 'c')}, {{"X-B", "2"}}, {{"T", "v"}}) ==
      "HTTP/1.1 200 OK\r\nX-B: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n11\r\n" +
          std::string(17, 'c') + "\r\n0\r\nT: v\r\n\r\n");
  CHECK(script_server::reason(999) == "Unknown");
}

TEST_CASE("script: shutdown_send half-closes, wait_for_close waits for the client", "[support]") {
  script_server srv({{step::send("bye"), step::shutdown_send(), step::wait_for_close()}});
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    read_result r = co_await read_to_end(s);
    CHECK(r.data == "bye");
    CHECK(r.ec == asio::error::eof);
    co_await write_all(s, "still writable");  // our direction is still open
    CHECK(srv.connections_closed() == 0);
    s.close();
  }());
  CHECK(srv.wait_for_closed(1));
}

TEST_CASE("script: later connections use the fallback; stall_forever ends with the server", "[support]") {
  asio::io_context ctx;
  asio::steady_timer warm_up(ctx);  // makes ctx open its reactor (epoll, eventfd, timerfd) before counting
  auto before = sentinel::test::open_fd_count();
  {
    script_server srv({{step::send("first")}}, {step::send("other")});
    for (const char* expected : {"first", "other", "other"}) {
      auto r = run_until(ctx, [&]() -> asio::awaitable<read_result> {
        tcp::socket s(co_await asio::this_coro::executor);
        co_await connect(s, srv.port());
        co_return co_await read_to_end(s);
      }());
      CHECK(r.data == expected);
    }
    CHECK(srv.connections_accepted() == 3);
  }
  {
    auto srv = std::make_unique<script_server>(std::vector<sentinel::test::script>{{step::stall_forever()}});
    run_until(ctx, [&]() -> asio::awaitable<void> {
      tcp::socket s(co_await asio::this_coro::executor);
      co_await connect(s, srv->port());
      CHECK(srv->wait_for_connections(1));
    }());
    auto start = clock_type::now();
    srv.reset();  // must not wait for the stall
    CHECK(clock_type::now() - start < 1s);
  }
  const auto after = sentinel::test::open_fd_count();
  if (after != before)
    for (const auto& d : sentinel::test::open_fd_descriptions())
      UNSCOPED_INFO(d);
  CHECK(after == before);
}

// ---- handler mode ---------------------------------------------------------------------------------------

TEST_CASE("handler: keep-alive serves 3 requests on one connection", "[support]") {
  script_server srv(hello_handler);
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port());
    std::string buf;
    for (const char* target : {"/a", "/b", "/c"}) {
      std::string req = std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
      co_await write_all(s, req);
      std::string reply3 = co_await read_response(s, buf);
      CHECK(body_of(reply3) == std::string("hello ") + target);
    }
    // Two pipelined requests in one write, the second asking to close.
    co_await write_all(
        s, "GET /d HTTP/1.1\r\nHost: x\r\n\r\nGET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string reply4 = co_await read_response(s, buf);
    CHECK(body_of(reply4) == "hello /d");
    std::string reply5 = co_await read_response(s, buf);
    CHECK(body_of(reply5) == "hello /e");
    read_result rest = co_await read_to_end(s);
    CHECK(rest.data.empty());
    CHECK(rest.ec == asio::error::eof);
  }());
  CHECK(srv.connections_accepted() == 1);
  CHECK(srv.requests_received() == 5);
  auto per = srv.requests();
  REQUIRE(per.size() == 1);
  CHECK(per[0][2].target == "/c");
  CHECK(per[0][4].sequence == 4);
}

TEST_CASE("handler: close conditions, 100-continue, bad requests", "[support]") {
  server_options opts;
  opts.max_requests_per_connection = 2;
  script_server srv(
      [](const received_request& r) {
        if (r.target == "/drop") return std::string();
        if (r.target == "/close") return script_server::response(200, "", {{"Connection", "close"}});
        return script_server::response(200, r.body);
      },
      opts);
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::string buf;
    {  // max_requests_per_connection
      tcp::socket s(ex);
      co_await connect(s, srv.port());
      co_await write_all(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await read_response(s, buf);
      co_await write_all(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await read_response(s, buf);
      read_result reply6 = co_await read_to_end(s);
      CHECK(reply6.ec == asio::error::eof);
    }
    for (const char* req : {"GET /drop HTTP/1.1\r\nHost: x\r\n\r\n", "GET /close HTTP/1.1\r\nHost: x\r\n\r\n",
                            "GET / HTTP/1.0\r\n\r\n", "NOT HTTP\r\n\r\n"}) {
      tcp::socket s(ex);
      co_await connect(s, srv.port());
      co_await write_all(s, req);
      read_result r = co_await read_to_end(s);
      CHECK(r.ec == asio::error::eof);
      const bool answered =
          std::string(req).find("/drop") == std::string::npos && std::string(req) != "NOT HTTP\r\n\r\n";
      CHECK(answered != r.data.empty());  // dropped and malformed requests get no reply, just EOF
    }
    {  // Expect: 100-continue: the interim response arrives before the body is sent
      tcp::socket s(ex);
      co_await connect(s, srv.port());
      co_await write_all(s,
                         "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      std::string interim = co_await read_response(s, buf, false);
      CHECK(interim.rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
      co_await write_all(s, "body");
      std::string reply7 = co_await read_response(s, buf);
      CHECK(body_of(reply7) == "body");
    }
  }());
  CHECK(srv.bad_requests() == 1);
  CHECK(srv.wait_for_closed(6));
}

TEST_CASE("handler: IPv6 loopback", "[support]") {
  server_options opts;
  opts.ipv6 = true;
  script_server srv(hello_handler, opts);
  CHECK(srv.url("/x") == "http://[::1]:" + std::to_string(srv.port()) + "/x");
  CHECK(srv.host() == "::1");
  asio::io_context ctx;
  auto body = run_until(ctx, [&]() -> asio::awaitable<std::string> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, srv.port(), true);
    co_await write_all(s, "GET /v6 HTTP/1.1\r\nHost: [::1]\r\n\r\n");
    std::string buf;
    co_return body_of(co_await read_response(s, buf));
  }());
  CHECK(body == "hello /v6");
}

TEST_CASE("handler: sustains many requests per second on one connection", "[support]") {
  server_options opts;
  opts.record_requests = false;
  const std::string reply = script_server::response(200, "Hello, World!");
  script_server srv([&reply](const received_request&) { return reply; }, opts);
  asio::io_context ctx;
  constexpr int n = 20000;
  auto start = clock_type::now();
  run_until(
      ctx,
      [&]() -> asio::awaitable<void> {
        tcp::socket s(co_await asio::this_coro::executor);
        co_await connect(s, srv.port());
        s.set_option(tcp::no_delay(true));
        std::string buf;
        const std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
        for (int i = 0; i < n; ++i) {
          co_await write_all(s, req);
          co_await read_response(s, buf);
        }
      }(),
      60s);
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  WARN("script_server handler mode: " << static_cast<int>(n / secs) << " sequential req/s on one connection");
  CHECK(srv.requests_received() == n);
  CHECK(srv.requests().at(0).empty());  // record_requests off
}

// ---- TLS ------------------------------------------------------------------------------------------------

TEST_CASE("TLS: the valid certificate verifies, every bad one is rejected", "[support][tls]") {
  const auto& c = sentinel::test::certs();
  asio::io_context ctx;
  auto trust_ca = client_context(c.ca.cert);

  auto serve = [](const sentinel::test::cert_files& f) {
    server_options o;
    o.tls = sentinel::test::tls_options{f.cert, f.key, {}};
    return std::make_unique<script_server>(hello_handler, o);
  };

  SECTION("valid: localhost, 127.0.0.1, and a chain with an intermediate") {
    for (const auto* f : {&c.server, &c.chained}) {
      auto srv = serve(*f);
      CHECK(srv->url("/x") == "https://127.0.0.1:" + std::to_string(srv->port()) + "/x");
      for (const char* host : {"localhost", "127.0.0.1"}) {
        auto r = run_until(ctx, tls_get(srv->port(), trust_ca, host, "/tls"));
        CHECK(r.handshake.message() == std::error_code().message());
        CHECK(body_of(r.response) == "hello /tls");
        CHECK(r.end == asio::error::eof);  // close_notify, not a truncated stream
      }
    }
  }
  SECTION("invalid: expired, wrong host, self-signed, untrusted CA") {
    for (const auto* f : {&c.expired, &c.wrong_host, &c.self_signed, &c.untrusted}) {
      auto srv = serve(*f);
      auto r = run_until(ctx, tls_get(srv->port(), trust_ca, "localhost"));
      INFO("certificate " << f->cert << ": " << r.handshake.message());
      CHECK(r.handshake);
      CHECK(r.handshake.category() == asio::error::get_ssl_category());
      CHECK(srv->wait_for_closed(1));
      CHECK(srv->tls_handshake_failures() == 1);
    }
  }
  SECTION("the chain needs its intermediate: the leaf alone does not verify") {
    auto srv = serve(sentinel::test::cert_files{c.dir + "/chained_leaf.pem", c.chained.key});
    CHECK(run_until(ctx, tls_get(srv->port(), trust_ca, "localhost")).handshake);
  }
  SECTION("client certificates") {
    server_options o;
    o.tls = sentinel::test::tls_options{c.server.cert, c.server.key, c.ca.cert};
    script_server srv(hello_handler, o);
    auto with_cert = client_context(c.ca.cert, &c.client);
    auto ok = run_until(ctx, tls_get(srv.port(), with_cert, "localhost", "/mtls"));
    CHECK_FALSE(ok.handshake);
    CHECK(body_of(ok.response) == "hello /mtls");
    // Without one, TLS 1.3 lets the client finish its handshake; the server's alert ends the stream.
    auto none = run_until(ctx, tls_get(srv.port(), trust_ca, "localhost"));
    CHECK((none.handshake || none.response.empty()));
    CHECK(srv.wait_for_closed(2));
    CHECK(srv.tls_handshake_failures() == 1);
    CHECK(srv.requests_received() == 1);
  }
}

TEST_CASE("TLS scripts: close sends close_notify, reset is a reset", "[support][tls]") {
  const auto& c = sentinel::test::certs();
  server_options o;
  o.tls = sentinel::test::tls_options{c.server.cert, c.server.key, {}};
  script_server srv({{step::expect_request(), step::send(script_server::response(200, "a")), step::close()},
                     {step::expect_request(), step::send("partial"), step::reset()}},
                    {}, o);
  asio::io_context ctx;
  auto trust_ca = client_context(c.ca.cert);
  auto first = run_until(ctx, tls_get(srv.port(), trust_ca, "localhost"));
  CHECK(body_of(first.response) == "a");
  CHECK(first.end == asio::error::eof);
  auto second = run_until(ctx, tls_get(srv.port(), trust_ca, "localhost"));
  CHECK(second.response == "partial");
  CHECK(second.end);
  CHECK(second.end != asio::error::eof);
}

// ---- nginx ----------------------------------------------------------------------------------------------

TEST_CASE("nginx: locations behave as documented", "[support][nginx]") {
  using sentinel::test::nginx;
  if (!nginx::available()) {
    WARN("skipped: " << nginx::unavailable_reason());
    return;
  }
  sentinel::test::nginx_options o;
  o.keepalive_requests = 2;
  nginx ng(o);
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::string buf;
    tcp::socket s(ex);
    co_await connect(s, ng.port());
    co_await write_all(s, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    std::string hello = co_await read_response(s, buf);
    CHECK(body_of(hello) == "Hello, World!");
    CHECK(hello.find("Connection: keep-alive") != std::string::npos);
    co_await write_all(s, "GET /4k HTTP/1.1\r\nHost: localhost\r\n\r\n");
    std::string four = co_await read_response(s, buf);
    CHECK(body_of(four) == nginx::file_body(4096));
    CHECK(four.find("Connection: close") != std::string::npos);  // keepalive_requests 2
    read_result reply8 = co_await read_to_end(s);
    CHECK(reply8.data.empty());
  }());

  auto fetch = [&](std::string request) {
    return run_until(ctx, [&]() -> asio::awaitable<std::string> {
      tcp::socket s(co_await asio::this_coro::executor);
      co_await connect(s, ng.port());
      co_await write_all(s, request);
      co_return (co_await read_to_end(s)).data;
    }());
  };
  auto get = [&](std::string target, std::string extra = {}) {
    return fetch("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "Connection: close\r\n\r\n");
  };

  std::string big = get("/1m");
  CHECK(big.find("Content-Length: 1048576\r\n") != std::string::npos);
  CHECK(body_of(big) == nginx::file_body(1048576));

  std::string chunked = get("/chunked");
  INFO(chunked);
  CHECK(chunked.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(chunked.find("Content-Length") == std::string::npos);
  int chunks = 0;
  CHECK(dechunk(body_of(chunked), chunks) == nginx::chunked_body());
  CHECK(chunks >= 2);

  std::string gz = get("/text", "Accept-Encoding: gzip\r\n");
  CHECK(gz.find("Content-Encoding: gzip\r\n") != std::string::npos);
  CHECK(gz.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(body_of(get("/text")) == nginx::text_body());

  std::string echo = fetch(
      "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello nginx");
  CHECK(body_of(echo) == "hello nginx");
  std::string payload = nginx::file_body(300000);
  std::string big_echo =
      fetch("PUT /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 300000\r\nConnection: close\r\n\r\n" +
            payload);
  CHECK(body_of(big_echo) == payload);

  std::string no_content = get("/status/204");
  CHECK(no_content.rfind("HTTP/1.1 204 ", 0) == 0);
  CHECK(body_of(no_content).empty());
  std::string not_modified = get("/status/304");
  CHECK(not_modified.rfind("HTTP/1.1 304 ", 0) == 0);
  CHECK(not_modified.find("Content-Length") == std::string::npos);
  CHECK(body_of(not_modified).empty());
  CHECK(get("/status/404").rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(get("/redirect").find("Location: http://localhost:" + std::to_string(ng.port()) + "/hello\r\n") !=
        std::string::npos);

  std::string head = fetch("HEAD /4k HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  CHECK(head.find("Content-Length: 4096\r\n") != std::string::npos);
  CHECK(body_of(head).empty());
}

TEST_CASE("nginx: TLS listener verifies against the test CA", "[support][nginx][tls]") {
  using sentinel::test::nginx;
  if (!nginx::available()) {
    WARN("skipped: " << nginx::unavailable_reason());
    return;
  }
  sentinel::test::nginx_options o;
  o.tls = true;
  nginx ng(o);
  CHECK(ng.tls_url("/hello") == "https://localhost:" + std::to_string(ng.tls_port()) + "/hello");
  asio::io_context ctx;
  auto trust_ca = client_context(sentinel::test::certs().ca.cert);
  auto r = run_until(ctx, tls_get(ng.tls_port(), trust_ca, "localhost", "/hello"));
  CHECK_FALSE(r.handshake);
  CHECK(body_of(r.response) == "Hello, World!");
}

// ---- fd hygiene -----------------------------------------------------------------------------------------

TEST_CASE("no descriptor leaks after servers and nginx are destroyed", "[support]") {
  const auto& c = sentinel::test::certs();  // generated before counting: its files are closed by then
  auto round = [&] {
    asio::io_context ctx;
    server_options o;
    o.tls = sentinel::test::tls_options{c.server.cert, c.server.key, {}};
    script_server plain(hello_handler);
    script_server tls(hello_handler, o);
    script_server stalled({{step::stall_forever()}, {step::wait_for_close()}});
    auto trust_ca = client_context(c.ca.cert);
    run_until(ctx, [&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      tcp::socket a(ex), b(ex), d(ex);
      co_await connect(a, plain.port());
      co_await write_all(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      std::string buf;
      co_await read_response(a, buf);  // a stays open: the server holds an idle keep-alive connection
      co_await connect(b, stalled.port());
      co_await connect(d, stalled.port());
      CHECK(stalled.wait_for_connections(2));
    }());
    run_until(ctx, tls_get(tls.port(), trust_ca, "localhost"));
    if (sentinel::test::nginx::available()) {
      sentinel::test::nginx ng;
      run_until(ctx, [&]() -> asio::awaitable<void> {
        tcp::socket s(co_await asio::this_coro::executor);
        co_await connect(s, ng.port());
        co_await write_all(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        std::string buf;
        co_await read_response(s, buf);
      }());
    }
  };
  round();  // warm-up: one-time allocations (OpenSSL, glibc) happen here
  const std::size_t before = sentinel::test::open_fd_count();
  round();
  round();
  const std::size_t after = sentinel::test::open_fd_count();
  if (after != before)
    for (const auto& d : sentinel::test::open_fd_descriptions())
      UNSCOPED_INFO(d);
  CHECK(after == before);
}

// ---- proxy_server ---------------------------------------------------------------------------------------

namespace {

using sentinel::test::proxied_request;
using sentinel::test::proxy_options;
using sentinel::test::proxy_server;

const std::string proxy_407 =
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
    "Content-Length: 0\r\n\r\n";

std::string connect_request(std::string_view authority, std::string_view extra = {}) {
  return "CONNECT " + std::string(authority) + " HTTP/1.1\r\nHost: " + std::string(authority) + "\r\n" +
         std::string(extra) + "\r\n";
}

// Reads until `buf` holds a complete chunked response (this test's targets send no trailers).
asio::awaitable<std::string> read_chunked_response(tcp::socket& s, std::string& buf) {
  char tmp[4096];
  std::size_t end;
  while ((end = buf.find("\r\n0\r\n\r\n")) == std::string::npos) {
    std::size_t n = co_await s.async_read_some(asio::buffer(tmp), use_awaitable);
    buf.append(tmp, n);
  }
  std::string out = buf.substr(0, end + 7);
  buf.erase(0, end + 7);
  co_return out;
}

// A port on 127.0.0.1 that nothing listens on (bound, then closed again).
unsigned short closed_port() {
  asio::io_context ctx;
  tcp::acceptor a(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

}  // namespace

TEST_CASE("proxy: a CONNECT tunnel carries two requests, and closes both ways", "[support][proxy]") {
  script_server srv(hello_handler);
  proxy_server proxy;
  CHECK(proxy.url() == "http://127.0.0.1:" + std::to_string(proxy.port()));
  const std::string authority = "127.0.0.1:" + std::to_string(srv.port());
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::string buf;
    {  // the client closes the tunnel
      tcp::socket s(ex);
      co_await connect(s, proxy.port());
      co_await write_all(s, connect_request(authority));
      std::string established = co_await read_response(s, buf, false);
      CHECK(established == "HTTP/1.1 200 Connection Established\r\n\r\n");
      for (const char* target : {"/one", "/two"}) {
        std::string req = std::string("GET ") + target + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
        co_await write_all(s, req);
        std::string reply = co_await read_response(s, buf);
        CHECK(body_of(reply) == std::string("hello ") + target);
      }
      s.shutdown(tcp::socket::shutdown_send);
      read_result rest = co_await read_to_end(s);
      CHECK(rest.data.empty());
      CHECK(rest.ec == asio::error::eof);
    }
    CHECK(srv.wait_for_closed(1));  // the proxy closed its side towards the target too
    {  // the target closes the tunnel (Connection: close); bytes sent with the CONNECT head get through
      tcp::socket s(ex);
      co_await connect(s, proxy.port());
      co_await write_all(s, connect_request(authority) + "GET /three HTTP/1.1\r\nHost: x\r\n\r\n");
      std::string established = co_await read_response(s, buf, false);
      CHECK(established == "HTTP/1.1 200 Connection Established\r\n\r\n");
      std::string reply = co_await read_response(s, buf);
      CHECK(body_of(reply) == "hello /three");
      co_await write_all(s, "GET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      read_result rest = co_await read_to_end(s);
      CHECK(body_of(rest.data) == "hello /four");
      CHECK(rest.ec == asio::error::eof);
    }
  }());
  CHECK(proxy.wait_for_closed(2));
  CHECK(proxy.connects() == 2);
  CHECK(proxy.tunnels() == 2);
  CHECK(proxy.forwarded() == 0);
  CHECK(proxy.connections_accepted() == 2);
  CHECK(srv.connections_accepted() == 2);
  CHECK(srv.requests_received() == 4);
  auto recs = proxy.requests();
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].method == "CONNECT");
  CHECK(recs[0].target == authority);
  CHECK(recs[0].status == 200);
  CHECK(recs[1].connection == 1);
  CHECK_FALSE(recs[0].has_header("Proxy-Authorization"));
}

TEST_CASE("proxy: 407 without the right credentials, then 200 on the same connection", "[support][proxy]") {
  script_server srv(hello_handler);
  proxy_options opts;
  opts.required_auth = "Basic dXNlcjpwYXNz";
  proxy_server proxy(opts);
  const std::string authority = "127.0.0.1:" + std::to_string(srv.port());
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::string buf;
    {  // CONNECT: none, wrong, right
      tcp::socket s(ex);
      co_await connect(s, proxy.port());
      co_await write_all(s, connect_request(authority));
      std::string r1 = co_await read_response(s, buf);
      CHECK(r1 == proxy_407);
      co_await write_all(s, connect_request(authority, "Proxy-Authorization: Basic d3Jvbmc6d3Jvbmc=\r\n"));
      std::string r2 = co_await read_response(s, buf);
      CHECK(r2 == proxy_407);
      co_await write_all(s, connect_request(authority, "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"));
      std::string r3 = co_await read_response(s, buf, false);
      CHECK(r3 == "HTTP/1.1 200 Connection Established\r\n\r\n");
      co_await write_all(s, "GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      read_result rest = co_await read_to_end(s);
      CHECK(body_of(rest.data) == "hello /tunnel");
    }
    {  // forwarding: wrong (with a body, which is read and dropped), then right
      tcp::socket s(ex);
      co_await connect(s, proxy.port());
      std::string url = srv.url("/fwd");
      co_await write_all(s, "POST " + url +
                                " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic eDp5\r\n"
                                "Content-Length: 4\r\n\r\nbody");
      std::string r1 = co_await read_response(s, buf);
      CHECK(r1 == proxy_407);
      co_await write_all(
          s, "GET " + url + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
      std::string r2 = co_await read_response(s, buf);
      CHECK(body_of(r2) == "hello /fwd");
    }
  }());
  CHECK(proxy.connections_accepted() == 2);
  CHECK(proxy.connects() == 3);
  CHECK(proxy.tunnels() == 1);
  CHECK(proxy.auth_failures() == 3);
  CHECK(proxy.forwarded() == 1);
  auto recs = proxy.requests();
  REQUIRE(recs.size() == 5);
  CHECK_FALSE(recs[0].has_header("Proxy-Authorization"));
  CHECK(recs[1].header("Proxy-Authorization") == "Basic d3Jvbmc6d3Jvbmc=");
  CHECK(recs[1].status == 407);
  CHECK(recs[2].status == 200);
  CHECK(recs[2].sequence == 2);
  CHECK(recs[3].body == "body");
  CHECK(recs[4].status == 200);
  CHECK(srv.requests_received() == 2);  // the tunnelled GET and the forwarded one: no 407 reached it
  auto at_target = srv.all_requests();
  REQUIRE(at_target.size() == 2);
  CHECK_FALSE(at_target[1].has_header("Proxy-Authorization"));
}

TEST_CASE("proxy: forwards absolute-form requests, many on one connection", "[support][proxy]") {
  script_server srv(hello_handler);
  script_server other([](const received_request& r) {
    if (r.target == "/chunked") return script_server::chunked_response(200, {"ab", "cd"});
    return script_server::response(200, "other " + r.body);
  });
  // A target whose reply has no framing (ends at EOF): the proxy closes the client connection after it.
  const sentinel::test::script until_eof{step::expect_request(),
                                         step::send("HTTP/1.1 200 OK\r\n\r\nuntil eof"), step::close()};
  script_server unframed({}, until_eof);
  proxy_server proxy;
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await connect(s, proxy.port());
    std::string buf;
    co_await write_all(s, "GET " + srv.url("/a?x=1#frag") +
                              " HTTP/1.1\r\nHost: h\r\nProxy-Connection: keep-alive\r\n"
                              "Connection: keep-alive\r\nX-Test: 1\r\n\r\n");
    std::string r1 = co_await read_response(s, buf);
    CHECK(body_of(r1) == "hello /a?x=1");
    co_await write_all(s, "POST " + srv.url("/b") + " HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    std::string r2 = co_await read_response(s, buf);
    CHECK(body_of(r2) == "hello /b");
    CHECK(proxy.forwarded() == 2);
    CHECK(proxy.connections_accepted() == 1);
    // A different target on the same connection; an "http://host:port" URL without a path.
    co_await write_all(s,
                       "POST http://localhost:" + std::to_string(other.port()) +
                           " HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    std::string r3 = co_await read_response(s, buf);
    CHECK(body_of(r3) == "other abc");
    co_await write_all(s, "GET " + other.url("/chunked") + " HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string r4 = co_await read_chunked_response(s, buf);
    CHECK(body_of(r4) == "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n");
    co_await write_all(s, "GET " + unframed.url("/") + " HTTP/1.1\r\nHost: h\r\n\r\n");
    read_result rest = co_await read_to_end(s);
    CHECK(rest.data == "HTTP/1.1 200 OK\r\n\r\nuntil eof");
    CHECK(rest.ec == asio::error::eof);
  }());
  CHECK(proxy.forwarded() == 5);
  CHECK(proxy.connections_accepted() == 1);
  CHECK(proxy.wait_for_closed(1));
  CHECK(srv.connections_accepted() == 2);  // a new target connection per request
  auto at_target = srv.all_requests();
  REQUIRE(at_target.size() == 2);
  CHECK(at_target[0].target == "/a?x=1");
  CHECK(at_target[0].header("Host") == "h");
  CHECK(at_target[0].header("X-Test") == "1");
  CHECK(at_target[0].header("Connection") == "close");
  CHECK(at_target[0].header_count("Connection") == 1);
  CHECK_FALSE(at_target[0].has_header("Proxy-Connection"));
  CHECK(at_target[1].method == "POST");
  CHECK(at_target[1].body == "hello");
  auto at_other = other.all_requests();
  REQUIRE(at_other.size() == 2);
  CHECK(at_other[0].target == "/");
  CHECK(at_other[0].chunked);
  CHECK(at_other[0].body == "abc");
  auto recs = proxy.requests();
  REQUIRE(recs.size() == 5);
  CHECK(recs[0].target == srv.url("/a?x=1#frag"));
  CHECK(recs[0].header("Proxy-Connection") == "keep-alive");
  CHECK(recs[0].status == 200);
  CHECK(recs[1].body == "hello");
  CHECK(recs[4].sequence == 4);
}

TEST_CASE("proxy: refuses non-loopback targets (403), bad targets (400), unreachable ones (502)",
          "[support][proxy]") {
  proxy_server proxy;
  proxy_options refusing_opts;
  refusing_opts.refuse_connect = true;
  proxy_server refusing(refusing_opts);
  script_server srv(hello_handler);
  const std::string forbidden = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
  const std::string bad_gateway = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
  const std::string bad_request = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  const unsigned short dead_port = closed_port();
  asio::io_context ctx;
  run_until(ctx, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::string buf;
    tcp::socket s(ex);
    co_await connect(s, proxy.port());
    // All on one connection: each answer leaves it open for the next request.
    for (const char* authority : {"example.com:443", "10.0.0.1:80", "127.0.0.2:80", "[::2]:80"}) {
      co_await write_all(s, connect_request(authority));
      std::string r = co_await read_response(s, buf);
      CHECK(r == forbidden);
    }
    co_await write_all(s, "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
    std::string r1 = co_await read_response(s, buf);
    CHECK(r1 == forbidden);
    for (const char* req : {"GET /origin-form HTTP/1.1\r\nHost: x\r\n\r\n",
                            "GET https://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n\r\n",
                            "CONNECT 127.0.0.1 HTTP/1.1\r\nHost: x\r\n\r\n"}) {
      co_await write_all(s, req);
      std::string r = co_await read_response(s, buf);
      CHECK(r == bad_request);
    }
    co_await write_all(s, connect_request("127.0.0.1:" + std::to_string(dead_port)));
    std::string r2 = co_await read_response(s, buf);
    CHECK(r2 == bad_gateway);
    co_await write_all(s,
                       "GET http://127.0.0.1:" + std::to_string(dead_port) + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r3 = co_await read_response(s, buf);
    CHECK(r3 == bad_gateway);
    co_await write_all(s,
                       "GET " + srv.url("/still-open") + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_result rest = co_await read_to_end(s);
    CHECK(body_of(rest.data) == "hello /still-open");
    CHECK(rest.ec == asio::error::eof);

    tcp::socket r(ex);  // refuse_connect
    co_await connect(r, refusing.port());
    co_await write_all(r, connect_request("127.0.0.1:" + std::to_string(srv.port())));
    std::string r4 = co_await read_response(r, buf);
    CHECK(r4 == bad_gateway);
  }());
  CHECK(proxy.connections_accepted() == 1);
  CHECK(proxy.connects() == 6);
  CHECK(proxy.tunnels() == 0);
  CHECK(proxy.forwarded() == 1);
  CHECK(proxy.requests_received() == 11);
  CHECK(refusing.connects() == 1);
  CHECK(refusing.requests().at(0).status == 502);
  CHECK(srv.connections_accepted() == 1);  // only /still-open reached it
}

TEST_CASE("proxy: no descriptor leaks with open tunnels and idle connections", "[support][proxy]") {
  auto round = [] {
    script_server srv(hello_handler);
    proxy_server proxy;
    asio::io_context ctx;
    run_until(ctx, [&]() -> asio::awaitable<void> {
      auto ex = co_await asio::this_coro::executor;
      tcp::socket tunnel(ex), idle(ex), fresh(ex);
      std::string buf;
      co_await connect(tunnel, proxy.port());
      co_await write_all(tunnel, connect_request("127.0.0.1:" + std::to_string(srv.port())));
      co_await read_response(tunnel, buf, false);
      co_await write_all(tunnel, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await read_response(tunnel, buf);  // the tunnel and its target connection stay open
      co_await connect(idle, proxy.port());
      co_await write_all(idle, "GET " + srv.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
      co_await read_response(idle, buf);  // an idle keep-alive connection to the proxy
      co_await connect(fresh, proxy.port());
      CHECK(proxy.wait_for_connections(3));
    }());
  };
  round();  // warm-up
  const std::size_t before = sentinel::test::open_fd_count();
  round();
  round();
  const std::size_t after = sentinel::test::open_fd_count();
  if (after != before)
    for (const auto& d : sentinel::test::open_fd_descriptions())
      UNSCOPED_INFO(d);
  CHECK(after == before);
}
