// The HTTP/2 session against frames as the network cuts them: a server's whole answer (its SETTINGS, the
// ACK, HEADERS, DATA and trailers) delivered split at every byte offset, and byte by byte; and the
// server lowering SETTINGS_MAX_CONCURRENT_STREAMS in the middle of a connection.
#include "h2_peer.hpp"
#include "support/run_until.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sentinel::test::run_until;
using namespace sentinel::test::h2;

namespace {

// (co_await never appears inside a Catch macro or a condition here: g++ 12.)

asio::awaitable<void> yield(int rounds = 8) {
  for (int i = 0; i < rounds; ++i)
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

const std::string split_body = "hello, split world: a body in one DATA frame";

h2_peer::answer split_answer(const request_seen&) {
  return h2_peer::answer{200, split_body, {{"x-sum", "42"}}, false, 0};
}

// One exchange whose answer the server holds back; `deliver` then writes it (`held`) as it likes.
template <class Deliver>
fixture::result exchange_with_held_answer(Deliver deliver) {
  fixture f;
  f.peer->respond = split_answer;
  f.peer->hold_output = true;
  f.start_peer();
  fixture::result r;
  run_until(f.io, [&]() -> asio::awaitable<void> {
    bool done = false;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          r = co_await f.send("GET", "/split");
          done = true;
        },
        asio::detached);
    while (f.peer->answered == 0)
      co_await yield(1);
    co_await yield();
    const std::string bytes = std::move(f.peer->held);
    f.peer->hold_output = false;
    co_await deliver(*f.peer, bytes);
    while (!done)
      co_await yield(1);
  }());
  return r;
}

}  // namespace

TEST_CASE("http2 frames: the answer split at every byte offset reads the same", "[http2][frames]") {
  // The held bytes are the same for every run (same request, same answer): measure them once.
  std::size_t total = 0;
  exchange_with_held_answer([&](h2_peer& p, const std::string& bytes) -> asio::awaitable<void> {
    total = bytes.size();
    p.write_raw(bytes);
    co_return;
  });
  REQUIRE(total > 9 * 5);  // at least SETTINGS, its ACK, HEADERS, DATA and the trailers' HEADERS
  for (std::size_t k = 1; k < total; ++k) {
    INFO("split at " << k << " of " << total);
    const auto r =
        exchange_with_held_answer([k](h2_peer& p, const std::string& bytes) -> asio::awaitable<void> {
          p.write_raw(std::string_view(bytes).substr(0, k));
          co_await yield();  // the client reads and parses the first part alone
          p.write_raw(std::string_view(bytes).substr(k));
        });
    REQUIRE_FALSE(r.out.ec);
    REQUIRE(r.res.status() == 200);
    REQUIRE(r.body == split_body);
    REQUIRE(r.res.trailers().get("x-sum") == std::optional<std::string_view>("42"));
  }
}

TEST_CASE("http2 frames: the answer byte by byte reads the same", "[http2][frames]") {
  const auto r = exchange_with_held_answer([](h2_peer& p, const std::string& bytes) -> asio::awaitable<void> {
    for (const char c : bytes) {
      p.write_raw(std::string_view(&c, 1));
      co_await yield(2);
    }
  });
  CHECK_FALSE(r.out.ec);
  CHECK(r.body == split_body);
  CHECK(r.res.trailers().get("x-sum") == std::optional<std::string_view>("42"));
}

TEST_CASE("http2 frames: a server lowering its stream limit mid-connection lowers the capacity",
          "[http2][frames]") {
  fixture f;
  f.peer->respond = [](const request_seen& r) { return h2_peer::answer{200, echo_of(r), {}, false, 0}; };
  f.start_peer();
  run_until(f.io, [&]() -> asio::awaitable<void> {
    const auto first = co_await f.send("GET", "/first");
    CHECK_FALSE(first.out.ec);
    CHECK(f.conn->capacity() == 100);
    f.peer->set_max_streams(1);
    co_await yield();
    CHECK(f.conn->capacity() == 1);
    // Three at once on a connection that allows one: nghttp2 holds the others back until a stream
    // closes; none is refused, none lost.
    std::vector<fixture::result> results(3);
    int done = 0;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          co_await asio::this_coro::executor,
          [&, i]() -> asio::awaitable<void> {
            results[static_cast<std::size_t>(i)] = co_await f.send("GET", "/n" + std::to_string(i));
            ++done;
          },
          asio::detached);
    }
    while (done < 3)
      co_await yield(1);
    for (int i = 0; i < 3; ++i) {
      CHECK_FALSE(results[static_cast<std::size_t>(i)].out.ec);
      CHECK(results[static_cast<std::size_t>(i)].body == "GET /n" + std::to_string(i) + " ");
    }
    // The server's nghttp2 refuses a stream over its limit (REFUSED_STREAM) while an answer is still
    // queued; none was: the client never had two open at once.
    for (const auto& [id, code] : f.peer->closed)
      CHECK(code == NGHTTP2_NO_ERROR);
    CHECK(f.peer->closed.size() == 4);
  }());
  CHECK(f.conn->reusable());
}
