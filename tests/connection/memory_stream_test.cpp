// The in-memory pipe under the transport seam: the semantics a connection relies on from a socket.
#include "support/memory_stream.hpp"

#include "support/run_until.hpp"
#include "transport/stream.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

using sentinel::test::make_memory_pipe;
using sentinel::test::run_until;

TEST_CASE("memory pipe: bytes, would_block, EOF after shutdown", "[memory]") {
  asio::io_context ctx;
  auto [a, b] = make_memory_pipe(ctx.get_executor());
  char buf[16];
  std::error_code ec;
  CHECK(b.read_some(asio::buffer(buf), ec) == 0);
  CHECK(ec == asio::error::would_block);
  CHECK(a.write_some(asio::buffer("hello", 5), ec) == 5);
  CHECK_FALSE(ec);
  CHECK(b.read_some(asio::buffer(buf), ec) == 5);
  CHECK(std::string(buf, 5) == "hello");
  a.write_some(asio::buffer("xy", 2), ec);
  a.shutdown_send();
  CHECK(b.read_some(asio::buffer(buf), ec) == 2);  // what was sent comes before the EOF
  CHECK(b.read_some(asio::buffer(buf), ec) == 0);
  CHECK(ec == asio::error::eof);
  CHECK(a.write_some(asio::buffer("z", 1), ec) == 0);
  CHECK(ec == asio::error::broken_pipe);
}

TEST_CASE("memory pipe: waits wake on data, cancel aborts them", "[memory]") {
  asio::io_context ctx;
  auto [a, b] = make_memory_pipe(ctx.get_executor());
  run_until(ctx, [&, a = a, b = b]() mutable -> asio::awaitable<void> {
    std::error_code ec;
    asio::post(ctx, [&a] {
      std::error_code e;
      a.write_some(asio::buffer("ping", 4), e);
    });
    co_await b.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    CHECK_FALSE(ec);
    char buf[8];
    CHECK(b.read_some(asio::buffer(buf), ec) == 4);
    asio::post(ctx, [&b] { b.cancel(); });
    co_await b.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    CHECK(ec == asio::error::operation_aborted);
  }());
}

TEST_CASE("memory pipe: read limit splits, capacity blocks the writer", "[memory]") {
  asio::io_context ctx;
  auto [a, b] = make_memory_pipe(ctx.get_executor());
  b.set_read_limit(3);
  a.set_send_capacity(4);
  std::error_code ec;
  CHECK(a.write_some(asio::buffer("abcdefgh", 8), ec) == 4);  // room for four
  CHECK(a.write_some(asio::buffer("efgh", 4), ec) == 0);
  CHECK(ec == asio::error::would_block);
  char buf[8];
  CHECK(b.read_some(asio::buffer(buf), ec) == 3);
  CHECK(std::string(buf, 3) == "abc");
  CHECK(a.write_some(asio::buffer("efgh", 4), ec) == 3);  // room again
  // The AsyncStream side: a whole write completes as the reader drains.
  run_until(ctx, [&, a = a, b = b]() mutable -> asio::awaitable<void> {
    std::string got;
    asio::co_spawn(
        ctx,
        [&, b]() mutable -> asio::awaitable<void> {
          char tmp[2];
          for (;;) {
            std::error_code e;
            const std::size_t n =
                co_await b.async_read_some(asio::buffer(tmp), asio::redirect_error(asio::use_awaitable, e));
            got.append(tmp, n);
            if (e) co_return;
          }
        },
        asio::detached);
    std::error_code e;
    co_await asio::async_write(a, asio::buffer("0123456789", 10),
                               asio::redirect_error(asio::use_awaitable, e));
    CHECK_FALSE(e);
    a.shutdown_send();
    while (got.size() < 14)
      co_await asio::post(ctx, asio::use_awaitable);
    CHECK(got == "defg0123456789");  // "h" did not fit: the third write took three bytes
  }());
}

TEST_CASE("memory pipe: reset and injected failures", "[memory]") {
  asio::io_context ctx;
  SECTION("reset: the peer reads what was sent, then connection_reset; unread bytes are dropped") {
    auto [a, b] = make_memory_pipe(ctx.get_executor());
    std::error_code ec;
    a.write_some(asio::buffer("sent", 4), ec);
    b.write_some(asio::buffer("lost", 4), ec);
    a.reset();
    char buf[8];
    CHECK(b.read_some(asio::buffer(buf), ec) == 4);  // as from a socket's receive queue
    CHECK(std::string(buf, 4) == "sent");
    CHECK(b.read_some(asio::buffer(buf), ec) == 0);
    CHECK(ec == asio::error::connection_reset);
    CHECK(b.write_some(asio::buffer("x", 1), ec) == 0);
    CHECK(ec == asio::error::connection_reset);
  }
  SECTION("fail after N bytes, both directions") {
    auto [a, b] = make_memory_pipe(ctx.get_executor());
    std::error_code ec;
    a.fail_writes_after(3, asio::error::broken_pipe);
    CHECK(a.write_some(asio::buffer("abcdef", 6), ec) == 3);
    CHECK(a.write_some(asio::buffer("def", 3), ec) == 0);
    CHECK(ec == asio::error::broken_pipe);
    b.fail_reads_after(2, asio::error::connection_reset);
    char buf[8];
    CHECK(b.read_some(asio::buffer(buf), ec) == 2);
    CHECK(b.read_some(asio::buffer(buf), ec) == 0);
    CHECK(ec == asio::error::connection_reset);
  }
  SECTION("close: the peer reads EOF, its writes fail with broken_pipe") {
    auto [a, b] = make_memory_pipe(ctx.get_executor());
    std::error_code ec;
    a.close();
    CHECK_FALSE(a.is_open());
    char buf[4];
    b.read_some(asio::buffer(buf), ec);
    CHECK(ec == asio::error::eof);
    b.write_some(asio::buffer("x", 1), ec);
    CHECK(ec == asio::error::broken_pipe);
  }
}

namespace {
// Everything here completes without waiting on time: a few polls either get there or never will.
void poll_until(asio::io_context& ctx, const bool& done) {
  for (int i = 0; i < 100 && !done; ++i) {
    ctx.restart();
    ctx.poll();
  }
  REQUIRE(done);
}
}  // namespace

TEST_CASE("memory pipe as a connection's device: the transport stream reads, waits and closes through it",
          "[memory][device]") {
  asio::io_context ctx;
  auto [mine, theirs] = make_memory_pipe(ctx.get_executor());
  sentinel::detail::stream s(ctx.get_executor());
  sentinel::test::attach_memory(s, mine);
  CHECK(s.is_open());
  CHECK(s.reads_by_readiness());
  CHECK(s.alpn_protocol().empty());
  CHECK(s.remote_endpoint() == asio::ip::tcp::endpoint{});
  CHECK(s.idle_check());  // nothing readable: alive

  // A wait parks until the peer writes, then the non-blocking read gets the bytes.
  char buf[16];
  std::error_code ec;
  CHECK(s.try_read(asio::buffer(buf), ec) == 0);
  CHECK(ec == asio::error::would_block);
  bool woke = false;
  std::error_code wait_ec = asio::error::timed_out;
  s.async_wait_readable([&](std::error_code e) {
    woke = true;
    wait_ec = e;
  });
  ctx.poll();
  CHECK_FALSE(woke);
  theirs.write_some(asio::buffer("hi", 2), ec);
  REQUIRE_FALSE(ec);
  poll_until(ctx, woke);
  CHECK_FALSE(wait_ec);
  CHECK(s.try_read(asio::buffer(buf), ec) == 2);
  CHECK_FALSE(ec);

  // Writable at once (unbounded pipe); a wait cancelled through the stream ends with operation_aborted.
  woke = false;
  s.async_wait_writable([&](std::error_code e) {
    woke = true;
    wait_ec = e;
  });
  poll_until(ctx, woke);
  CHECK_FALSE(wait_ec);
  woke = false;
  s.async_wait_readable([&](std::error_code e) {
    woke = true;
    wait_ec = e;
  });
  ctx.poll();
  s.cancel();
  poll_until(ctx, woke);
  CHECK(wait_ec == asio::error::operation_aborted);
  CHECK(s.is_open());

  // Unsolicited bytes make an idle connection unusable; close() is the peer's EOF.
  theirs.write_some(asio::buffer("x", 1), ec);
  CHECK_FALSE(s.idle_check());
  s.close();
  CHECK_FALSE(s.is_open());
  CHECK(theirs.read_some(asio::buffer(buf), ec) == 0);
  CHECK(ec == asio::error::eof);
}
