// HTTP/2 against a server that breaks the protocol in a way that ends the connection (RFC 9113 §5.4.1):
// nghttp2 finds it and ends the session with a GOAWAY, and the session must then fail what is open, typed,
// at once, instead of leaving each stream to its deadline (or forever, without one). Over the in-memory
// pipe, with the faulty frames written by hand after the response head.
#include "h2_peer.hpp"
#include "support/run_until.hpp"

#include <sentinel/error.hpp>

#include <chrono>
#include <string>

using sentinel::error;
using sentinel::test::h2::fixture;
using sentinel::test::h2::frame;
using sentinel::test::h2::h2_peer;
using sentinel::test::h2::request_seen;
using namespace std::chrono_literals;

namespace {

struct fault {
  const char* what;
  std::string bytes;
  std::uint32_t code;  // the GOAWAY's error code the client sends
};

std::vector<fault> faults() {
  constexpr std::uint8_t data = 0, push_promise = 5, ping = 6, window_update = 8;
  return {
      // The connection window is 65,535 at first (the server's receive window for our sends grows only by
      // its WINDOW_UPDATEs): 2^31 - 1 on top overflows it.
      {"a WINDOW_UPDATE past 2^31 - 1", frame(window_update, 0, 0, std::string("\x7f\xff\xff\xff", 4)),
       NGHTTP2_FLOW_CONTROL_ERROR},
      {"a PUSH_PROMISE although push is off", frame(push_promise, 4, 1, std::string("\0\0\0\2\x82", 5)),
       NGHTTP2_PROTOCOL_ERROR},
      {"a PING of 7 bytes", frame(ping, 0, 0, std::string(7, 'p')), NGHTTP2_FRAME_SIZE_ERROR},
      {"DATA on stream 0", frame(data, 0, 0, "body"), NGHTTP2_PROTOCOL_ERROR},
      // Over the 16,384-byte SETTINGS_MAX_FRAME_SIZE the client keeps (a header block's frame).
      {"a HEADERS frame of 16,385 bytes", frame(1, 4, 1, std::string(16385, '\x82')),
       NGHTTP2_FRAME_SIZE_ERROR},
  };
}

}  // namespace

TEST_CASE("http2 faults: a connection error fails the open streams at once, typed, with the GOAWAY's code",
          "[http2][faults]") {
  for (const fault& x : faults()) {
    INFO(x.what);
    fixture f;
    f.peer->respond = [](const request_seen&) {
      h2_peer::answer a;
      a.head_only = true;  // the stream stays open
      return a;
    };
    f.start_peer();
    const auto start = std::chrono::steady_clock::now();
    const auto r = f.send_then("/open", [&](h2_peer& p) { p.write_raw(x.bytes); });
    CHECK(r.out.ec == error::http2_protocol_error);
    CHECK(r.out.http2_error == x.code);
    CHECK_FALSE(f.conn->reusable());
    CHECK(std::chrono::steady_clock::now() - start < 5s);  // a bound, not a speed: not the deadline's wait
    // The server was told why.
    sentinel::test::run_until(f.io, [&]() -> asio::awaitable<void> {
      while (!f.peer->goaway)
        co_await f.pause();
    }());
    CHECK(f.peer->goaway == x.code);
  }
}

TEST_CASE("http2 faults: a server that never opens its window ends the stream alone, by its deadline",
          "[http2][faults]") {
  // SETTINGS_INITIAL_WINDOW_SIZE 0 and no WINDOW_UPDATE: the request's head goes out, its body never.
  fixture f;
  f.peer->initial_window = 0;
  sentinel::detail::exchange_params p;
  SECTION("before the response head: the response head timeout") {
    f.peer->respond = [](const request_seen&) { return h2_peer::answer{200, "ok", {}, false, 0}; };
    p.response_head_timeout = 100ms;
  }
  SECTION("after a response head sent early: the idle timeout") {
    f.peer->answer_early = true;
    f.peer->respond = [](const request_seen& r) {
      h2_peer::answer a{200, "ok", {}, false, 0};
      a.head_only = r.fields.at(":method") == "POST";
      return a;
    };
    p.response_head_timeout = 10s;
    p.idle_read_timeout = 100ms;
  }
  f.start_peer();
  fixture::result up, after;
  sentinel::test::run_until(f.io, [&]() -> asio::awaitable<void> {
    up = co_await f.send("POST", "/up", std::string(1000, 'x'), p);
    after = co_await f.send("GET", "/after");  // no body: no window needed
  }());
  CHECK(up.out.ec == (f.peer->answer_early ? error::idle_timeout : error::response_timeout));
  CHECK_FALSE(after.out.ec);
  CHECK(after.body == "ok");
  CHECK(f.conn->reusable());
}

TEST_CASE("http2 faults: a stream window pushed past 2^31 - 1 fails that stream alone", "[http2][faults]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    h2_peer::answer a{200, "ok", {}, false, 0};
    a.head_only = r.fields.at(":path") == "/open";
    return a;
  };
  f.start_peer();
  const auto r = f.send_then(
      "/open", [&](h2_peer& peer) { peer.write_raw(frame(8, 0, 1, std::string("\x7f\xff\xff\xff", 4))); });
  CHECK(r.out.ec == error::stream_reset);
  CHECK(r.out.http2_error == NGHTTP2_FLOW_CONTROL_ERROR);
  fixture::result after;
  sentinel::test::run_until(f.io,
                            [&]() -> asio::awaitable<void> { after = co_await f.send("GET", "/after"); }());
  CHECK_FALSE(after.out.ec);
  CHECK(f.conn->reusable());
}

TEST_CASE("http2 faults: a stream reset with each error code fails that stream alone, typed, with the code",
          "[http2][faults]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) {
    const std::string& path = r.fields.at(":path");
    if (path == "/ok") return h2_peer::answer{200, "fine", {}, false, 0};
    return h2_peer::answer{0, {}, {}, false, static_cast<std::uint32_t>(std::stoul(path.substr(1)))};
  };
  f.start_peer();
  sentinel::test::run_until(f.io, [&]() -> asio::awaitable<void> {
    // PROTOCOL_ERROR (1) .. HTTP_1_1_REQUIRED (13); REFUSED_STREAM (7) is stream_refused, tested apart.
    for (std::uint32_t code = 1; code <= 13; ++code) {
      const auto r = co_await f.send("GET", "/" + std::to_string(code));
      INFO("code " << code);
      CHECK(r.out.ec == (code == NGHTTP2_REFUSED_STREAM ? error::stream_refused : error::stream_reset));
      CHECK(r.out.http2_error == (code == NGHTTP2_REFUSED_STREAM ? 0 : code));
    }
    const auto after = co_await f.send("GET", "/ok");
    CHECK_FALSE(after.out.ec);
  }());
  CHECK(f.conn->reusable());
}

TEST_CASE("http2 faults: a SETTINGS frame that opens the window mid-upload lets the body go",
          "[http2][faults]") {
  // The window starts closed (0); 50 ms in, the server's new SETTINGS_INITIAL_WINDOW_SIZE opens it.
  fixture f;
  f.peer->initial_window = 0;
  f.peer->respond = [](const request_seen& r) { return h2_peer::answer{200, r.body, {}, false, 0}; };
  f.start_peer();
  const std::string body(100000, 'b');
  fixture::result up;
  sentinel::test::run_until(f.io, [&]() -> asio::awaitable<void> {
    bool done = false;
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
          up = co_await f.send("POST", "/up", body);
          done = true;
        },
        asio::detached);
    asio::steady_timer t(f.io, 50ms);
    co_await t.async_wait(asio::use_awaitable);
    CHECK_FALSE(done);
    f.peer->set_initial_window(1 << 20);
    while (!done)
      co_await f.pause();
  }());
  CHECK_FALSE(up.out.ec);
  CHECK(up.body == body);
}
