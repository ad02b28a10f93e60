// The pool on its own, over a fake session with scripted capacity (no protocol, no exchange): capacity
// shared by waiters, FIFO order, a connect in progress shared by the requests that wait for it, connect
// failure, the caps, idle expiry, a session that dies while idle, cancellation, and release on exception.
// Connections are opened through the in-memory connector, which counts them. No socket, no thread.
#include "pool/connection_pool.hpp"
#include "session/session.hpp"
#include "support/memory_stream.hpp"
#include "support/run_until.hpp"
#include "transport/context.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sentinel::error;
using sentinel::test::run_until;
namespace d = sentinel::detail;

namespace {

// What the fake sessions and the connector do, set by each test.
struct script {
  std::size_t capacity = 1;
  bool may_multiplex = false;
  std::chrono::milliseconds connect_delay{0};
  std::error_code connect_error;  // every connect fails with it (after the delay)
  bool alive_when_idle = true;    // what idle_check() says
  std::size_t connects = 0;       // connector calls
  std::size_t closed = 0;         // sessions closed
};

class fake_session final : public d::session {
 public:
  fake_session(std::string origin, std::shared_ptr<d::link> l, script& s)
      : session(std::move(origin)), id(s.connects), link_(std::move(l)), s_(s), capacity_(s.capacity) {}
  std::size_t capacity() const noexcept override { return capacity_; }
  std::size_t active() const noexcept override { return leases; }
  bool reusable() const noexcept override { return !closed_ && !going_away; }
  bool idle_check() noexcept override { return s_.alive_when_idle; }
  std::error_code prepare(const d::exchange_request&) override { return {}; }
  d::task<d::exchange_outcome> exchange(const d::outgoing_body&, const d::exchange_params&,
                                        sentinel::response&) override {
    co_return d::exchange_outcome{};
  }
  d::tcp::endpoint peer() const noexcept override { return {}; }
  std::string_view alpn() const noexcept override { return {}; }
  void close(bool) noexcept override {
    if (!closed_) ++s_.closed;
    closed_ = true;
    link_->io.close();
  }
  void cancel() noexcept override { link_->io.cancel(); }
  void stop_timer() noexcept override {}

  const std::size_t id;     // which connect made it (1, 2, ...)
  bool going_away = false;  // as after an HTTP/2 GOAWAY: it carries its exchanges but takes no more

 private:
  std::shared_ptr<d::link> link_;
  script& s_;
  std::size_t capacity_;
  bool closed_ = false;
};

constexpr std::array<std::string_view, 1> fake_alpn{"fake/1"};

// (co_await never appears inside a Catch macro or a condition here: g++ 12 miscompiles some of those and
// evaluates the awaited operation twice.)

// A pool whose connections are memory pipes (the connector counts them) carrying fake sessions.
struct fixture {
  explicit fixture(script& s, sentinel::connection_pool_options opts = {})
      : s_(s),
        ctx_ptr(std::make_shared<d::connection_context>(io.get_executor(), sentinel::tls_options{}, 4096)),
        pool(ctx_ptr, opts, factory(s)),
        target("http://fake.test/"),
        rt{&target, nullptr, false, {}} {
    ctx_ptr->connector = [&s, ex = io.get_executor(), this](
                             const d::route&, d::stream& st) -> asio::awaitable<std::error_code> {
      ++s.connects;
      if (s.connect_delay.count() > 0) {
        asio::steady_timer t(ex, s.connect_delay);
        std::error_code ignored;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
      if (s.connect_error) co_return s.connect_error;
      auto [mine, theirs] = sentinel::test::make_memory_pipe(ex);
      peers.push_back(theirs);
      sentinel::test::attach_memory(st, mine);
      co_return std::error_code{};
    };
  }
  ~fixture() { pool.shutdown(); }

  static d::session_factory factory(script& s) {
    d::session_factory f;
    f.make = [&s](const std::string& origin, std::string_view, std::shared_ptr<d::link> l) {
      return std::make_unique<fake_session>(origin, std::move(l), s);
    };
    return f;
  }

  // acquire() with a 5 s deadline, for `origin`; `allow_idle` false as a retry asks.
  asio::awaitable<std::error_code> acquire(d::connection_pool::lease& out, std::string_view origin = "fake",
                                           bool allow_idle = true) {
    d::connect_report report;
    const d::protocol_offer offer{fake_alpn, "fake/1", s_.may_multiplex};
    co_return co_await pool.acquire(origin, allow_idle, d::clock::now() + 5s, error::pool_timeout,
                                    {&rt, 5s, d::clock::time_point::max(), offer}, out, report);
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds ms) {
    asio::steady_timer t(io, ms);
    std::error_code ignored;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  script& s_;
  asio::io_context io;
  std::shared_ptr<d::connection_context> ctx_ptr;
  d::connection_pool pool;
  sentinel::url target;
  d::route rt;
  std::vector<sentinel::test::memory_stream> peers;
};

}  // namespace

TEST_CASE("pool unit: 32 concurrent requests share connections of capacity 8: 4 connects", "[pool][unit]") {
  script s;
  s.capacity = 8;
  s.may_multiplex = true;
  s.connect_delay = 5ms;
  fixture f(s);
  std::size_t holding = 0, completed = 0;
  std::vector<const d::session*> seen;
  auto one = [&]() -> asio::awaitable<void> {
    d::connection_pool::lease l;
    const auto ec = co_await f.acquire(l);
    REQUIRE_FALSE(ec);
    seen.push_back(&*l);
    ++holding;
    while (holding < 32)  // every lease is held at once: 32 units need 4 sessions
      co_await f.sleep(1ms);
    ++completed;
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 32; ++i)
      asio::co_spawn(ex, one(), asio::detached);
    while (completed < 32)
      co_await f.sleep(1ms);
  }());
  CHECK(completed == 32);
  CHECK(s.connects == 4);  // one connect per connection
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) - seen.begin() == 4);
  CHECK(f.pool.counters().open_connections.get() == 4);
  CHECK(f.pool.counters().idle_connections.get() == 4);  // all back, idle
}

TEST_CASE("pool unit: capacity 1 without multiplexing opens a connection per concurrent request",
          "[pool][unit]") {
  script s;
  s.connect_delay = 2ms;
  fixture f(s);
  std::size_t done = 0;
  auto one = [&]() -> asio::awaitable<void> {
    d::connection_pool::lease l;
    {
      const std::error_code acquired = co_await f.acquire(l);
      REQUIRE_FALSE(acquired);
    }
    co_await f.sleep(5ms);
    ++done;
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 3; ++i)
      asio::co_spawn(ex, one(), asio::detached);
    while (done < 3)
      co_await f.sleep(1ms);
  }());
  CHECK(s.connects == 3);
}

TEST_CASE("pool unit: waiters at the origin's cap are served in FIFO order", "[pool][unit]") {
  script s;
  sentinel::connection_pool_options opts;
  opts.max_per_origin = 1;
  fixture f(s, opts);
  std::vector<int> order;
  auto waiter = [&](int id) -> asio::awaitable<void> {
    d::connection_pool::lease l;
    {
      const std::error_code acquired = co_await f.acquire(l);
      REQUIRE_FALSE(acquired);
    }
    order.push_back(id);
    co_await f.sleep(1ms);
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::connection_pool::lease first;
    {
      const std::error_code acquired = co_await f.acquire(first);
      REQUIRE_FALSE(acquired);
    }
    auto ex = co_await asio::this_coro::executor;
    for (int i = 1; i <= 4; ++i)
      asio::co_spawn(ex, waiter(i), asio::detached);
    co_await f.sleep(2ms);
    CHECK(f.pool.waiting_count() == 4);
    first.give_back();
    while (order.size() < 4)
      co_await f.sleep(1ms);
  }());
  CHECK(order == std::vector<int>{1, 2, 3, 4});
  CHECK(s.connects == 1);  // the one connection went from waiter to waiter
}

TEST_CASE("pool unit: a failed connect wakes the requests that waited for it, with its error",
          "[pool][unit]") {
  script s;
  s.may_multiplex = true;
  s.connect_delay = 5ms;
  s.connect_error = make_error_code(asio::error::connection_refused);
  fixture f(s);
  std::vector<std::error_code> errors;
  auto one = [&]() -> asio::awaitable<void> {
    d::connection_pool::lease l;
    const std::error_code ec = co_await f.acquire(l);  // (not inside a call: g++ 12)
    errors.push_back(ec);
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 5; ++i)
      asio::co_spawn(ex, one(), asio::detached);
    while (errors.size() < 5)
      co_await f.sleep(1ms);
  }());
  CHECK(s.connects == 1);
  for (const auto& ec : errors)
    CHECK(ec == asio::error::connection_refused);
  CHECK(f.pool.counters().open_connections.get() == 0);
  CHECK(f.pool.waiting_count() == 0);
}

TEST_CASE("pool unit: the total cap makes a request wait until a connection anywhere is freed",
          "[pool][unit]") {
  script s;
  sentinel::connection_pool_options opts;
  opts.max_total = 2;
  fixture f(s, opts);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::connection_pool::lease a, b, c;
    {
      const std::error_code acquired = co_await f.acquire(a, "one");
      REQUIRE_FALSE(acquired);
    }
    {
      const std::error_code acquired = co_await f.acquire(b, "two");
      REQUIRE_FALSE(acquired);
    }
    bool got = false;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          {
            const std::error_code acquired = co_await f.acquire(c, "three");
            REQUIRE_FALSE(acquired);
          }
          got = true;
        },
        asio::detached);
    co_await f.sleep(3ms);
    CHECK_FALSE(got);
    CHECK(f.pool.waiting_count() == 1);
    a.give_back();  // idle now, but it is the only room: closed to let "three" open one
    while (!got)
      co_await f.sleep(1ms);
    CHECK(f.pool.counters().open_connections.get() == 2);
  }());
  CHECK(s.connects == 3);
}

TEST_CASE("pool unit: idle expiry and a session that died while idle both mean a new connection",
          "[pool][unit]") {
  script s;
  sentinel::connection_pool_options opts;
  opts.idle_timeout = 20ms;
  fixture f(s, opts);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::connection_pool::lease l;
    {
      const std::error_code acquired = co_await f.acquire(l);
      REQUIRE_FALSE(acquired);
    }
    l.give_back();
    REQUIRE(f.pool.try_acquire("fake", true, l));  // fresh and alive: reused
    CHECK(l.reused());
    l.give_back();
    co_await f.sleep(30ms);
    CHECK_FALSE(f.pool.try_acquire("fake", true, l));  // expired: dropped
    {
      const std::error_code acquired = co_await f.acquire(l);
      REQUIRE_FALSE(acquired);
    }
    CHECK_FALSE(l.reused());
    l.give_back();
    s.alive_when_idle = false;  // the server closed it meanwhile
    CHECK_FALSE(f.pool.try_acquire("fake", true, l));
  }());
  CHECK(s.connects == 2);
  CHECK(s.closed == 2);
  CHECK(f.pool.counters().open_connections.get() == 0);
}

TEST_CASE("pool unit: a cancelled waiter leaves the queue, and the next one is served", "[pool][unit]") {
  script s;
  sentinel::connection_pool_options opts;
  opts.max_per_origin = 1;
  fixture f(s, opts);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::connection_pool::lease first;
    {
      const std::error_code acquired = co_await f.acquire(first);
      REQUIRE_FALSE(acquired);
    }
    asio::cancellation_signal cancel;
    std::error_code cancelled_ec;
    bool cancelled_done = false, second_done = false;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          d::connection_pool::lease l;
          cancelled_ec = co_await f.acquire(l);
          cancelled_done = true;
        },
        asio::bind_cancellation_slot(cancel.slot(), asio::detached));
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          d::connection_pool::lease l;
          {
            const std::error_code acquired = co_await f.acquire(l);
            REQUIRE_FALSE(acquired);
          }
          second_done = true;
        },
        asio::detached);
    co_await f.sleep(2ms);
    CHECK(f.pool.waiting_count() == 2);
    cancel.emit(asio::cancellation_type::terminal);
    while (!cancelled_done)
      co_await f.sleep(1ms);
    CHECK(cancelled_ec == asio::error::operation_aborted);
    CHECK(f.pool.waiting_count() == 1);
    first.give_back();
    while (!second_done)
      co_await f.sleep(1ms);
  }());
  CHECK(s.connects == 1);
}

TEST_CASE("pool unit: a lease comes back when its holder throws", "[pool][unit]") {
  script s;
  s.capacity = 2;
  s.may_multiplex = true;
  sentinel::connection_pool_options opts;
  opts.max_per_origin = 1;
  fixture f(s, opts);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      try {
        d::connection_pool::lease l;
        {
          const std::error_code acquired = co_await f.acquire(l);
          REQUIRE_FALSE(acquired);
        }
        throw std::runtime_error("user code");
      } catch (const std::runtime_error&) {
      }
    }
    // Both units are free again: two at once, on the one connection.
    d::connection_pool::lease a, b;
    REQUIRE(f.pool.try_acquire("fake", true, a));
    REQUIRE(f.pool.try_acquire("fake", true, b));
    CHECK(&*a == &*b);
    CHECK(a->active() == 2);
  }());
  CHECK(s.connects == 1);
}

TEST_CASE("pool unit: requests retried off a connection going away share the one connection opened for them",
          "[pool][unit]") {
  // An HTTP/2 GOAWAY refuses the streams above its last-stream-id: each is retried with allow_idle false
  // (never an older connection). A connection opened after they queued is fresh for all of them: they
  // share it, up to its capacity, instead of taking a connection each.
  script s;
  s.capacity = 8;
  s.may_multiplex = true;
  s.connect_delay = 2ms;
  sentinel::connection_pool_options opts;
  opts.max_per_origin = 1;
  fixture f(s, opts);
  std::vector<std::size_t> first, retried;  // the ids of the sessions used
  std::size_t done = 0;
  auto one = [&]() -> asio::awaitable<void> {
    d::connection_pool::lease l;
    {
      const std::error_code acquired = co_await f.acquire(l);
      REQUIRE_FALSE(acquired);
    }
    first.push_back(static_cast<fake_session&>(*l).id);
    while (first.size() < 8)
      co_await f.sleep(1ms);
    static_cast<fake_session&>(*l).going_away = true;
    l.give_back();  // refused: retried, not on this connection nor on any that was open before
    {
      const std::error_code acquired = co_await f.acquire(l, "fake", false);
      REQUIRE_FALSE(acquired);
    }
    retried.push_back(static_cast<fake_session&>(*l).id);
    while (retried.size() < 8)
      co_await f.sleep(1ms);
    ++done;
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 8; ++i)
      asio::co_spawn(ex, one(), asio::detached);
    while (done < 8)
      co_await f.sleep(1ms);
  }());
  REQUIRE(retried.size() == 8);
  CHECK(s.connects == 2);
  CHECK(first == std::vector<std::size_t>(8, 1));
  CHECK(retried == std::vector<std::size_t>(8, 2));
  CHECK(s.closed == 1);  // the one that went away
}

TEST_CASE("pool unit: a retry never shares a connection that was open before it asked", "[pool][unit]") {
  script s;
  s.capacity = 4;
  s.may_multiplex = true;
  fixture f(s);
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::connection_pool::lease a, retry;
    {
      const std::error_code acquired = co_await f.acquire(a);
      REQUIRE_FALSE(acquired);
    }
    CHECK_FALSE(f.pool.try_acquire("fake", false, retry));  // room on `a`, but `a` is not fresh
    {
      const std::error_code acquired = co_await f.acquire(retry, "fake", false);
      REQUIRE_FALSE(acquired);
    }
    CHECK(&*retry != &*a);
    CHECK_FALSE(retry.reused());
  }());
  CHECK(s.connects == 2);
}

TEST_CASE("pool unit: a retry waits ahead of first attempts, behind earlier retries", "[pool][unit]") {
  // A server that ends each connection after N streams refuses what goes beyond N: a retry served after
  // the first attempts that queued meanwhile would be refused again, and again.
  script s;
  sentinel::connection_pool_options opts;
  opts.max_per_origin = 1;
  fixture f(s, opts);
  std::vector<int> order;
  auto waiter = [&](int id, bool retry) -> asio::awaitable<void> {
    d::connection_pool::lease l;
    {
      const std::error_code acquired = co_await f.acquire(l, "fake", !retry);
      REQUIRE_FALSE(acquired);
    }
    order.push_back(id);
    co_await f.sleep(1ms);
  };
  run_until(f.io, [&]() -> asio::awaitable<void> {
    d::connection_pool::lease first;
    {
      const std::error_code acquired = co_await f.acquire(first);
      REQUIRE_FALSE(acquired);
    }
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, waiter(1, false), asio::detached);
    asio::co_spawn(ex, waiter(2, true), asio::detached);
    asio::co_spawn(ex, waiter(3, false), asio::detached);
    asio::co_spawn(ex, waiter(4, true), asio::detached);
    co_await f.sleep(2ms);
    CHECK(f.pool.waiting_count() == 4);
    first.give_back();
    while (order.size() < 4)
      co_await f.sleep(1ms);
  }());
  CHECK(order == std::vector<int>{2, 4, 1, 3});
  // The retries want a connection opened after they asked: the first one is closed for them, and the
  // second serves the rest.
  CHECK(s.connects == 2);
}

TEST_CASE("pool unit: first attempts behind a waiting retry share the older connection meanwhile",
          "[pool][unit]") {
  // One connection allowed, of 4 streams, all in use. A retry queues for a connection newer than it (it
  // is served once this one is idle and its slot can be reopened); a first attempt queues behind it, but
  // needs no such thing, and takes the room this connection has as soon as a stream comes back.
  script s;
  s.capacity = 4;
  s.may_multiplex = true;
  sentinel::connection_pool_options opts;
  opts.max_per_origin = 1;
  fixture f(s, opts);
  std::vector<std::string> order;
  std::size_t first_on = 0, retry_on = 0;
  run_until(f.io, [&]() -> asio::awaitable<void> {
    std::array<d::connection_pool::lease, 4> in_use;
    {
      const std::error_code acquired = co_await f.acquire(in_use[0]);
      REQUIRE_FALSE(acquired);
    }
    for (std::size_t i = 1; i < 4; ++i)
      REQUIRE(f.pool.try_acquire("fake", true, in_use[i]));
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          d::connection_pool::lease l;
          const std::error_code acquired = co_await f.acquire(l, "fake", false);
          CHECK_FALSE(acquired);
          retry_on = static_cast<fake_session&>(*l).id;
          order.push_back("retry");
        },
        asio::detached);
    co_await f.sleep(1ms);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          d::connection_pool::lease l;
          const std::error_code acquired = co_await f.acquire(l);
          CHECK_FALSE(acquired);
          first_on = static_cast<fake_session&>(*l).id;
          order.push_back("first");
          co_await f.sleep(5ms);
        },
        asio::detached);
    co_await f.sleep(2ms);
    CHECK(f.pool.waiting_count() == 2);
    in_use[0].give_back();  // room on connection 1: the first attempt takes it, the retry keeps waiting
    co_await f.sleep(2ms);
    CHECK(order == std::vector<std::string>{"first"});
    for (std::size_t i = 1; i < 4; ++i)
      in_use[i].give_back();
    while (order.size() < 2)
      co_await f.sleep(1ms);
  }());
  CHECK(first_on == 1);
  CHECK(retry_on == 2);
  CHECK(order == std::vector<std::string>{"first", "retry"});
}
