// HTTP/2 request bodies over the in-memory stream: a source of unknown length, a file, a source that throws
// or breaks its announced length, and Expect: 100-continue (a 100, an early final answer, no answer).
// Every failure ends its stream alone: the connection carries the next request.
#include "h2_peer.hpp"
#include "support/run_until.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <stdexcept>

using namespace std::chrono_literals;
using sentinel::test::run_until;
using namespace sentinel::test::h2;
namespace d = sentinel::detail;

namespace {

// (co_await never appears inside a Catch macro or a condition here: g++ 12.)

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + i / 101) % 26);
  return s;
}

// A source that hands out `data` in pieces of at most `piece` bytes, then throws on call `throw_at` (0:
// never).
sentinel::request::body_source_fn source_of(const std::string& data, std::size_t piece, int throw_at = 0) {
  auto offset = std::make_shared<std::size_t>(0);
  auto calls = std::make_shared<int>(0);
  return [&data, piece, offset, calls, throw_at](std::span<char> buf) -> asio::awaitable<std::size_t> {
    if (++*calls == throw_at) throw std::runtime_error("source failed");
    const std::size_t n = std::min({piece, buf.size(), data.size() - *offset});
    std::copy_n(data.data() + *offset, n, buf.data());
    *offset += n;
    co_return n;
  };
}

h2_peer::answer echo(const request_seen& r) {
  return h2_peer::answer{200, r.body, {}, false, 0};
}

}  // namespace

TEST_CASE("http2 upload: a source of unknown length and a file go out whole", "[http2][upload]") {
  fixture f;
  f.peer->respond = echo;
  f.start_peer();
  const std::string data = pattern(300000);
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  REQUIRE(std::fwrite(data.data(), 1, data.size(), file) == data.size());
  std::fflush(file);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto source = source_of(data, 7000);
    d::outgoing_body b;
    b.source = &source;
    b.chunked = true;
    d::request_extras x;
    x.length_unknown = true;
    const auto streamed = co_await f.send_body("POST", "/source", b, x, {});
    CHECK_FALSE(streamed.out.ec);
    CHECK(streamed.out.request_written);
    CHECK(streamed.body.size() == data.size());
    CHECK(streamed.body == data);

    d::outgoing_body fb;
    fb.fd = fileno(file);
    fb.length = data.size();
    d::request_extras fx;
    fx.body_length = data.size();
    const auto from_file = co_await f.send_body("PUT", "/file", fb, fx, {});
    CHECK_FALSE(from_file.out.ec);
    CHECK(from_file.body == data);
  }());
  std::fclose(file);
  // What the server saw: no content-length for the source, the file's length for the file.
  REQUIRE(f.peer->requests.size() == 2);
  CHECK(f.peer->requests.at(1).fields.count("content-length") == 0);
  CHECK(f.peer->requests.at(3).fields.at("content-length") == "300000");
}

TEST_CASE("http2 upload: a source that throws or breaks its length fails its stream alone",
          "[http2][upload]") {
  fixture f;
  f.peer->respond = echo;
  f.start_peer();
  const std::string data = pattern(100000);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto throwing = source_of(data, 10000, 3);
    std::exception_ptr thrown;
    d::outgoing_body b;
    b.source = &throwing;
    b.chunked = true;
    b.thrown = &thrown;
    d::request_extras x;
    x.length_unknown = true;
    const auto threw = co_await f.send_body("POST", "/throws", b, x, {});
    CHECK(threw.out.ec == sentinel::error::callback_threw);
    CHECK(threw.out.failed_sending);
    CHECK_FALSE(threw.out.request_written);
    CHECK(thrown != nullptr);

    const auto longer = source_of(data, 10000);  // announces less than it produces
    d::outgoing_body lb;
    lb.source = &longer;
    lb.length = 50000;
    d::request_extras lx;
    lx.body_length = 50000;
    const auto too_long = co_await f.send_body("POST", "/longer", lb, lx, {});
    CHECK(too_long.out.ec == sentinel::error::invalid_request);

    const auto after = co_await f.send("POST", "/after", "small");
    CHECK_FALSE(after.out.ec);
    CHECK(after.body == "small");
  }());
  CHECK(f.conn->reusable());
  CHECK(f.conn->active() == 0);
}

TEST_CASE("http2 upload: Expect: 100-continue holds the body for the 100, an early answer, or the timeout",
          "[http2][upload]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    if (r.fields.at(":path") == "/refuse") return h2_peer::answer{413, "too large", {}, false, 0};
    return echo(r);
  };
  f.start_peer();
  const std::string data = pattern(50000);
  auto expecting = [&](const std::string& target,
                       std::chrono::milliseconds timeout) -> asio::awaitable<fixture::result> {
    d::outgoing_body b;
    b.data = data;
    b.expect_continue = true;
    b.continue_timeout = timeout;
    d::request_extras x;
    x.expect_continue = true;
    co_return co_await f.send_body("PUT", target, b, x, {});
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    f.peer->expect = h2_peer::on_expect::send_100;
    const auto continued = co_await expecting("/continue", 10s);
    CHECK_FALSE(continued.out.ec);
    CHECK(continued.body == data);
    CHECK(continued.out.request_written);

    f.peer->expect = h2_peer::on_expect::answer_now;
    const auto refused = co_await expecting("/refuse", 10s);
    CHECK_FALSE(refused.out.ec);  // the early answer stands
    CHECK(refused.res.status() == 413);
    CHECK(refused.body == "too large");
    CHECK_FALSE(refused.out.request_written);  // the body was never sent

    f.peer->expect = h2_peer::on_expect::ignore;
    const auto timed_out = co_await expecting("/late", 30ms);
    CHECK_FALSE(timed_out.out.ec);
    CHECK(timed_out.body == data);  // no 100 in time: the body went anyway

    const auto after = co_await f.send("GET", "/after");
    CHECK_FALSE(after.out.ec);
  }());
  CHECK(f.peer->requests.at(1).fields.at("expect") == "100-continue");
  CHECK(f.peer->requests.at(3).body.empty());  // the refused request's body never reached the server
  CHECK(f.conn->reusable());
}

TEST_CASE(
    "http2 upload: the response-head deadline counts from the start, however many blocks the body takes",
    "[http2][upload]") {
  fixture f;
  f.peer->respond = echo;
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    // Five blocks, 30 ms apart: 150 ms of upload against an 80 ms response-head deadline.
    auto calls = std::make_shared<int>(0);
    const sentinel::request::body_source_fn slow =
        [calls](std::span<char> buf) -> asio::awaitable<std::size_t> {
      asio::steady_timer t(co_await asio::this_coro::executor, 30ms);
      co_await t.async_wait(asio::use_awaitable);
      if (++*calls > 5) co_return 0;
      buf[0] = 'x';
      co_return 1;
    };
    d::outgoing_body b;
    b.source = &slow;
    b.chunked = true;
    d::request_extras x;
    x.length_unknown = true;
    d::exchange_params p;
    p.response_head_timeout = 80ms;
    const auto r = co_await f.send_body("POST", "/slow", b, x, p);
    CHECK(r.out.ec == sentinel::error::response_timeout);
    const auto after = co_await f.send("GET", "/after");
    CHECK_FALSE(after.out.ec);
  }());
}
