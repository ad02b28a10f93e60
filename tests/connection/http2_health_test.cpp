// HTTP/2's health check before reuse: a connection silent for ping_after_idle is checked with a PING
// before its next stream; no answer within the exchange's ping_timeout fails the connection and the
// exchange, unsent (so the client sends the request on a new connection). Over the in-memory pipe,
// against the nghttp2 server peer of h2_peer.hpp (which answers PINGs unless its output is held).
#include "h2_peer.hpp"
#include "support/run_until.hpp"

#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

using namespace std::chrono_literals;
using sentinel::test::run_until;
using sentinel::test::h2::fixture;

namespace {

asio::awaitable<void> sleep_for(asio::io_context& io, std::chrono::milliseconds d) {
  asio::steady_timer t(io, d);
  co_await t.async_wait(asio::use_awaitable);
}

void answer_ok(fixture& f) {
  f.peer->respond = [](const sentinel::test::h2::request_seen&) {
    return sentinel::test::h2::h2_peer::answer{200, "fine", {}, false, 0};
  };
  f.start_peer();
}

sentinel::detail::http2::connection_options pinging_after(std::chrono::milliseconds idle) {
  sentinel::detail::http2::connection_options o;
  o.ping_after_idle = idle;
  return o;
}

}  // namespace

TEST_CASE("http2 health: a connection silent past ping_after_idle is pinged before its next stream",
          "[http2][health]") {
  fixture f(pinging_after(40ms));
  answer_ok(f);
  sentinel::detail::exchange_params p;
  p.ping_timeout = 2s;
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto first = co_await f.send("GET", "/a", {}, p);
    CHECK_FALSE(first.out.ec);
    const auto soon = co_await f.send("GET", "/b", {}, p);  // heard from it just now: no PING
    CHECK_FALSE(soon.out.ec);
    CHECK(f.peer->pings == 0);
    co_await sleep_for(f.io, 60ms);
    const auto later = co_await f.send("GET", "/c", {}, p);
    CHECK_FALSE(later.out.ec);
    CHECK(f.peer->pings == 1);
    CHECK(f.peer->requests.size() == 3);
  }());
  CHECK(f.conn->reusable());
}

TEST_CASE("http2 health: an unanswered PING fails the connection, and the exchange goes unsent",
          "[http2][health]") {
  fixture f(pinging_after(40ms));
  answer_ok(f);
  sentinel::detail::exchange_params p;
  p.ping_timeout = 50ms;
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto first = co_await f.send("GET", "/a", {}, p);
    CHECK_FALSE(first.out.ec);
    co_await sleep_for(f.io, 60ms);
    f.peer->hold_output = true;  // the server goes quiet: its PING answer never arrives
    const auto r = co_await f.send("GET", "/b", {}, p);
    CHECK(r.out.ec == asio::error::timed_out);
    CHECK(r.out.not_processed);
    CHECK(r.out.refused);  // nothing was sent: any method may go to another connection
  }());
  CHECK(f.peer->pings == 1);
  CHECK(f.peer->requests.size() == 1);  // the second request never left
  CHECK_FALSE(f.conn->reusable());
}

TEST_CASE("http2 health: ping_after_idle zero never pings", "[http2][health]") {
  fixture f;
  answer_ok(f);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto first = co_await f.send("GET", "/a");
    CHECK_FALSE(first.out.ec);
    co_await sleep_for(f.io, 30ms);
    const auto second = co_await f.send("GET", "/b");
    CHECK_FALSE(second.out.ec);
  }());
  CHECK(f.peer->pings == 0);
}
