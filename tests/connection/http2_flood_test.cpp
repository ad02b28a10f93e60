// HTTP/2 against a server that floods the connection with frames carrying nothing for the exchanges
// (CVE-2019-9512 PING, -9515 SETTINGS, -9518 empty frames, and resets of streams already gone): past the
// session's flood_limits the connection fails with error::frame_flood, at once (the frames of one read are
// not all processed first), and no stream is left waiting. Within the limits, or at the rate the bucket
// refills, the same frames pass. Over the in-memory pipe, with the frames written by hand.
#include "h2_peer.hpp"

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

constexpr std::uint8_t data_type = 0, priority_type = 2, rst_type = 3, settings_type = 4, ping_type = 6,
                       goaway_type = 7;

std::string times(int n, const std::string& one) {
  std::string all;
  for (int i = 0; i < n; ++i)
    all += one;
  return all;
}

std::string ping() {
  return frame(ping_type, 0, 0, std::string(8, 'p'));
}

// The frames of one kind of flood, `n` of them: stream 1 is the request in flight.
std::string flood_of(const std::string& kind, int n) {
  if (kind == "PING") return times(n, ping());
  if (kind == "SETTINGS") return times(n, frame(settings_type, 0, 0, ""));
  if (kind == "PRIORITY") return times(n, frame(priority_type, 0, 1, std::string("\0\0\0\0\x0f", 5)));
  if (kind == "empty DATA") return times(n, frame(data_type, 0, 1, ""));
  // Last stream id 1: the request in flight may still finish.
  if (kind == "GOAWAY") return times(n, frame(goaway_type, 0, 0, std::string("\0\0\0\1\0\0\0\0", 8)));
  // RST_STREAM of a stream the client never opened above 1 is a protocol error; of stream 1's id after it
  // ended nghttp2 ignores it. Resets of an open stream nghttp2 keeps but whose exchange is gone are what
  // can repeat: stream 3, reset by the client when its deadline passed (below), until the server answers.
  return times(n, frame(rst_type, 0, 3, std::string(4, '\0')));
}

// A peer that answers `/answer` only when the test lets it (the answer is held until then), sends only the
// head for `/head-only`, and never answers `/never`.
void hold_answers(fixture& f) {
  f.peer->respond = [&f](const request_seen& r) {
    h2_peer::answer a{200, "late", {}, false, 0};
    const std::string& path = r.fields.at(":path");
    if (path == "/answer") f.peer->hold_output = true;
    if (path == "/never") a.silent = true;
    if (path == "/head-only") a.head_only = true;
    return a;
  };
}

void release_answer(h2_peer& p) {
  p.hold_output = false;
  p.write_raw(p.held);
  p.held.clear();
}

}  // namespace

TEST_CASE("http2 flood: frames carrying nothing past the burst fail the connection with frame_flood",
          "[http2][flood]") {
  const std::string kind =
      GENERATE(as<std::string>{}, "PING", "SETTINGS", "PRIORITY", "empty DATA", "GOAWAY");
  INFO(kind);
  // The server's first SETTINGS and its acknowledgement of ours count too: 2 of the 100.
  fixture f({100, {}, {}, {100, 0}});
  hold_answers(f);
  f.start_peer();
  const auto start = std::chrono::steady_clock::now();
  // The head is in: the stream is open both ways, and empty DATA frames are legal on it, one by one.
  // 500: fewer than nghttp2's own limit on the answers it queues (1,000), so this is the session's limit.
  const auto r = f.send_then("/head-only", [&](h2_peer& p) { p.write_raw(flood_of(kind, 500)); });
  CHECK(r.out.ec == error::frame_flood);
  CHECK_FALSE(f.conn->reusable());
  CHECK(std::chrono::steady_clock::now() - start < 10s);  // a bound, not a speed: it must not hang
}

TEST_CASE("http2 flood: nghttp2's own limit on queued answers is a frame_flood too", "[http2][flood]") {
  // The session's limit off: 5,000 PINGs in one read queue more acknowledgements than nghttp2 keeps
  // (NGHTTP2_ERR_FLOODED).
  fixture f({100, {}, {}, {0, 0}});
  hold_answers(f);
  f.start_peer();
  const auto r = f.send_then("/head-only", [&](h2_peer& p) { p.write_raw(flood_of("PING", 5000)); });
  CHECK(r.out.ec == error::frame_flood);
  CHECK_FALSE(f.conn->reusable());
}

TEST_CASE("http2 flood: resets of a stream whose exchange is gone count as a flood", "[http2][flood]") {
  fixture f({100, {}, {}, {100, 0}});
  hold_answers(f);
  f.start_peer();
  sentinel::detail::exchange_params timed;
  timed.response_head_timeout = 20ms;
  timed.total_deadline = sentinel::detail::clock::now() + 5s;
  fixture::result flooded;
  // Stream 1 waits for its answer; stream 3's deadline passes and its exchange ends.
  const auto first = f.send_then_co("/answer", [&](h2_peer& p) -> asio::awaitable<void> {
    flooded = co_await f.send("GET", "/never", {}, timed);
    p.write_raw(flood_of("RST_STREAM", 200));
    release_answer(p);
  });
  CHECK(flooded.out.ec == error::response_timeout);
  CHECK(first.out.ec == error::frame_flood);
  CHECK_FALSE(f.conn->reusable());
}

TEST_CASE("http2 flood: within the burst, and at the rate it refills, the connection carries on",
          "[http2][flood]") {
  SECTION("a burst of 90 PINGs, then the answer") {
    fixture f({100, {}, {}, {100, 0}});
    hold_answers(f);
    f.start_peer();
    const auto r = f.send_then("/answer", [&](h2_peer& p) {
      p.write_raw(flood_of("PING", 90));
      release_answer(p);
    });
    CHECK_FALSE(r.out.ec);
    CHECK(r.body == "late");
    CHECK(f.conn->reusable());
  }
  SECTION("a full bucket, a pause that refills it, a full bucket again") {
    // 20 at once, refilled at 1,000 a second: two bursts of 18 PINGs 30 ms apart pass (without the refill,
    // 2 + 36 frames would be 18 over). A slower machine only waits longer: more refill, never less.
    fixture f({100, {}, {}, {20, 1000}});
    hold_answers(f);
    f.start_peer();
    const auto r = f.send_then_co("/answer", [&](h2_peer& p) -> asio::awaitable<void> {
      p.write_raw(flood_of("PING", 18));
      asio::steady_timer t(f.io, 30ms);
      co_await t.async_wait(asio::use_awaitable);
      p.write_raw(flood_of("PING", 18));
      release_answer(p);
    });
    CHECK_FALSE(r.out.ec);
    CHECK(f.conn->reusable());
  }
  SECTION("WINDOW_UPDATE frames, as a server reading an upload sends them, are not counted") {
    fixture f({100, {}, {}, {10, 0}});
    hold_answers(f);
    f.start_peer();
    const auto r = f.send_then("/answer", [&](h2_peer& p) {
      p.write_raw(times(500, frame(8, 0, 0, std::string("\0\0\0\1", 4))));
      release_answer(p);
    });
    CHECK_FALSE(r.out.ec);
  }
}
