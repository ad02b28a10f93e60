// libFuzzer target: the response side of the HTTP/2 session (src/http2/session.cpp over nghttp2): frames
// in, stream outcomes out.
//
// Input: one mode byte, then the bytes the server sends (its preface, a SETTINGS frame, first). Three
// exchanges run on one connection over the in-memory pipe: a GET, a HEAD, and a POST with a small body.
// The server's bytes arrive in pieces (mode), then the server closes its end, or the client closes the
// connection; either way every exchange must end, and io_context::run() must return (a hang is a finding).
//
// Mode byte:
//   bits 0-2 piecewise split: 0 one piece, 1 two pieces, 2 byte by byte, 3 fixed 1..16, 4 random 1..64,
//            5 random 1..8, 6 three pieces, 7 random 1..512 (a fixed-seed generator: reproducible)
//   bit 3    a body limit of 64 bytes (else none)
//   bit 4    the client closes the connection after the last piece (else the server closes its end)
//   bit 5    the streams start one by one, each after the previous piece (else all three first)
//   bit 6    a flood limit of 4 frames that carry nothing, never refilled (else the default 1,000)
//
// Invariants (FUZZ_CHECK aborts): every exchange ends; a successful one has a final status 200..999, its
// end reached the consumer, a HEAD has no body, a body stays within the limit, and a body that declared a
// content-length (not a 204 or 304) has exactly that many bytes; afterwards the connection is not
// reusable.
#include "fuzz_check.hpp"
#include "http2/session.hpp"
#include "session/exchange.hpp"
#include "support/memory_stream.hpp"
#include "transport/context.hpp"
#include "transport/link.hpp"

#include <sentinel/headers.hpp>
#include <sentinel/response.hpp>
#include <sentinel/url.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace d = sentinel::detail;

struct collect final : d::response_consumer {
  std::string body;
  bool ended = false;
  std::error_code on_head(sentinel::response&) override { return {}; }
  std::error_code on_body(std::string_view data) override {
    body.append(data);
    return {};
  }
  std::error_code on_end(sentinel::response&) override {
    ended = true;
    return {};
  }
};

struct stream_run {
  std::string method;
  std::string body;  // sent
  d::method_kind kind = d::method_kind::normal;
  collect got;
  sentinel::response res;
  d::exchange_outcome out;
  bool done = false;
};

// Piece lengths for `n` bytes, as the mode says (the same split as response_driver.hpp's).
std::vector<std::size_t> pieces(std::size_t n, unsigned split) {
  std::vector<std::size_t> out;
  std::uint32_t seed = 0x9e3779b9u ^ static_cast<std::uint32_t>(n);
  auto next = [&](std::uint32_t bound) {
    seed = seed * 1664525u + 1013904223u;
    return 1 + (seed >> 8) % bound;
  };
  std::size_t at = 0;
  while (at < n) {
    std::size_t len = n - at;
    switch (split) {
      case 1:
        len = at == 0 ? (n + 1) / 2 : len;
        break;
      case 2:
        len = 1;
        break;
      case 3:
        len = 1 + (at / 7) % 16;
        break;
      case 4:
        len = next(64);
        break;
      case 5:
        len = next(8);
        break;
      case 6:
        len = at == 0 ? (n + 2) / 3 : (n - at > (n + 2) / 3 ? (n + 2) / 3 : n - at);
        break;
      case 7:
        len = next(512);
        break;
      default:
        break;
    }
    if (len > n - at) len = n - at;
    out.push_back(len);
    at += len;
  }
  return out;
}

// Runs what is ready. When the connection has failed, nothing is left to wait for and poll() leaves the
// io_context stopped: restart it first, or streams started later would never run.
void poll(asio::io_context& io) {
  io.restart();
  io.poll();
}

std::optional<std::uint64_t> declared_length(const sentinel::response& res) {
  const auto v = res.headers().get("content-length");
  if (!v) return std::nullopt;
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size()) return std::nullopt;
  return n;
}

asio::awaitable<void> run_one(d::http2::connection& conn, stream_run& s, std::uint64_t max_body) {
  d::request_extras x;
  x.user_agent = "sentinel-fuzz";
  const sentinel::url u("http://fuzz.test/p");
  const sentinel::headers fields{{"Accept", "*/*"}};
  if (conn.prepare({s.method, u, fields, s.body.size(), x})) {
    s.done = true;  // refused before anything was sent (not for these requests: checked below)
    co_return;
  }
  d::outgoing_body b;
  b.data = s.body;
  d::exchange_params p;
  p.kind = s.kind;
  p.max_body_bytes = max_body;
  p.consumer = &s.got;
  s.out = co_await d::async_run(conn.exchange(b, p, s.res), co_await asio::this_coro::executor,
                                asio::use_awaitable);
  s.done = true;
}

void check(const stream_run& s, std::uint64_t max_body) {
  FUZZ_CHECK(s.done);
  if (s.out.ec) return;
  FUZZ_CHECK(s.res.status() >= 200 && s.res.status() <= 999);
  FUZZ_CHECK(s.got.ended);
  if (s.kind == d::method_kind::head) FUZZ_CHECK(s.got.body.empty());
  if (max_body > 0) FUZZ_CHECK(s.got.body.size() <= max_body);
  if (s.kind == d::method_kind::normal && s.res.status() != 204 && s.res.status() != 304) {
    if (const auto n = declared_length(s.res)) FUZZ_CHECK(s.got.body.size() == *n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned mode = data[0];
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::uint64_t max_body = (mode & 0x08) != 0 ? 64 : 0;
  const bool client_closes = (mode & 0x10) != 0;
  const bool one_by_one = (mode & 0x20) != 0;
  d::http2::connection_options options;
  if ((mode & 0x40) != 0) options.flood = {4, 0};

  asio::io_context io;
  auto ctx = std::make_shared<d::connection_context>(io.get_executor(), sentinel::tls_options{}, 16 * 1024);
  auto [mine, theirs] = sentinel::test::make_memory_pipe(io.get_executor());
  auto l = std::make_shared<d::link>(io.get_executor());
  sentinel::test::attach_memory(l->io, mine, "h2");
  auto conn = std::make_shared<d::http2::connection>(ctx, "http://fuzz.test:80", std::move(l), options);

  std::array<stream_run, 3> streams;
  streams[0].method = "GET";
  streams[1].method = "HEAD";
  streams[1].kind = d::method_kind::head;
  streams[2].method = "POST";
  streams[2].body = "field=value";
  std::size_t started = 0;
  auto start_next = [&] {
    asio::co_spawn(io, run_one(*conn, streams[started], max_body), asio::detached);
    ++started;
  };
  if (!one_by_one)
    while (started < streams.size())
      start_next();

  std::size_t at = 0;
  for (const std::size_t len : pieces(wire.size(), mode & 0x07)) {
    if (one_by_one && started < streams.size()) start_next();
    poll(io);
    std::error_code ec;
    theirs.write_some(asio::buffer(wire.data() + at, len), ec);  // an unbounded pipe: all of it
    at += len;
    poll(io);
  }
  while (started < streams.size())
    start_next();
  poll(io);
  if (client_closes) {
    conn->close(false);
  } else {
    theirs.close();
  }
  io.restart();  // a poll that ran out of work left it stopped
  io.run();
  for (const auto& s : streams)
    check(s, max_body);
  FUZZ_CHECK(!conn->reusable());
  return 0;
}
