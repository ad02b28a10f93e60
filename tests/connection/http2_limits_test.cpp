// HTTP/2 against a server that sends too much head: the client's limit_options (max_head_bytes,
// max_header_count, max_header_line_bytes) bound each header block as they bound an HTTP/1 head, and a
// stream over them fails alone; a header block that never ends (a CONTINUATION flood) fails the
// connection, typed, in bounded time. Over the in-memory pipe, against the nghttp2 server peer of
// h2_peer.hpp, with frames written by hand where nghttp2 would refuse to send them.
#include "h2_peer.hpp"
#include "support/run_until.hpp"

#include <sentinel/error.hpp>

#include <string>

using sentinel::error;
using sentinel::test::run_until;
using sentinel::test::h2::fixture;
using sentinel::test::h2::frame;
using sentinel::test::h2::h2_peer;
using sentinel::test::h2::request_seen;

namespace {

std::vector<std::pair<std::string, std::string>> fields(int n, std::size_t value_size) {
  std::vector<std::pair<std::string, std::string>> f;
  for (int i = 0; i < n; ++i)
    f.emplace_back("x-f" + std::to_string(i), std::string(value_size, 'v'));
  return f;
}

constexpr std::uint8_t headers_type = 1, continuation_type = 9;

}  // namespace

TEST_CASE("http2 limits: a head or trailer block over the limits fails its stream alone", "[http2][limits]") {
  // Each field counts as its HTTP/1 line: `name: value\r\n`. content-length is one of the fields.
  fixture f({100, {1024, 10, 512}, {}, {}});
  f.peer->respond = [](const request_seen& r) {
    const std::string& path = r.fields.at(":path");
    h2_peer::answer a{200, "body", {}, false, 0};
    if (path == "/ten") a.fields = fields(9, 10);         // 9 + content-length: at the count limit
    if (path == "/eleven") a.fields = fields(10, 10);     // one over it
    if (path == "/big") a.fields = fields(5, 300);        // 5 x 309 bytes: over 1024
    if (path == "/long-line") a.fields = fields(1, 600);  // one line over 512
    if (path == "/big-trailers") a.trailers = fields(5, 300);
    return a;
  };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto ten = co_await f.send("GET", "/ten");
    CHECK_FALSE(ten.out.ec);
    CHECK(ten.res.headers().size() == 10);
    const auto eleven = co_await f.send("GET", "/eleven");
    CHECK(eleven.out.ec == error::too_many_headers);
    const auto big = co_await f.send("GET", "/big");
    CHECK(big.out.ec == error::header_too_large);
    const auto line = co_await f.send("GET", "/long-line");
    CHECK(line.out.ec == error::header_line_too_long);
    const auto trailers = co_await f.send("GET", "/big-trailers");
    CHECK(trailers.out.ec == error::header_too_large);
    const auto after = co_await f.send("GET", "/ok");  // the connection carries on
    CHECK_FALSE(after.out.ec);
    CHECK(after.body == "body");
  }());
  CHECK(f.conn->reusable());
  // Each refused stream was reset by the client.
  CHECK(f.peer->closed.size() >= 5);
}

TEST_CASE("http2 limits: a CONTINUATION flood fails the connection with header_too_large",
          "[http2][limits]") {
  // A HEADERS frame without END_HEADERS, then empty CONTINUATION frames without end: nghttp2 (1.61, or
  // Debian's backport) stops at 8 of them, and the session's own cap does where nghttp2 does not.
  fixture f;
  f.peer->respond = [](const request_seen&) {
    h2_peer::answer a;
    a.silent = true;
    return a;
  };
  f.start_peer();
  std::string flood = frame(headers_type, 0, 1, "\x88");  // :status 200
  for (int i = 0; i < 1000; ++i)
    flood += frame(continuation_type, 0, 1, "");
  const auto r = f.send_then("/flood", [&](h2_peer& p) { p.write_raw(flood); });
  CHECK(r.out.ec == error::header_too_large);
  CHECK_FALSE(f.conn->reusable());
}

TEST_CASE("http2 limits: the session's own cap on one header block, in bytes and in frames",
          "[http2][limits]") {
  // What the flood test above may leave to nghttp2 (1.61 and Debian's 1.52 stop at 8 CONTINUATIONs;
  // older builds do not): the cap the session applies itself, frame header by frame header.
  SECTION("frames: 8 + max_head_bytes / 1024 per block; a block's end starts the count again") {
    fixture f({100, {4096, 100, 4096}, {}, {}});
    for (int block = 0; block < 3; ++block) {
      for (int i = 0; i < 11; ++i)
        REQUIRE(f.conn->header_block_frame(0, false));
      REQUIRE(f.conn->header_block_frame(0, true));  // the 12th frame ends the block
    }
    for (int i = 0; i < 12; ++i)
      REQUIRE(f.conn->header_block_frame(0, false));
    CHECK_FALSE(f.conn->header_block_frame(0, false));  // a 13th frame in one block
  }
  SECTION("bytes: max_head_bytes + 16 KiB per block") {
    fixture f({100, {4096, 100, 4096}, {}, {}});
    REQUIRE(f.conn->header_block_frame(4096 + 16 * 1024, true));
    REQUIRE(f.conn->header_block_frame(4096, false));
    REQUIRE(f.conn->header_block_frame(16 * 1024, false));
    CHECK_FALSE(f.conn->header_block_frame(1, false));
  }
}
