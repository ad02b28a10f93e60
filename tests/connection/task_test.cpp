// task<T> (src/transport/task.hpp), the coroutine type of the request path: nesting, values and
// exceptions, Asio operations awaited with use_task, cancellation through the root handler's slot and
// its filter, completion never inside the initiating call, awaitables run inside a task, and frames that
// outlive nothing. No socket, no thread: timers on one io_context.
#include <sentinel/detail/task.hpp>
#include "transport/cancel.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
namespace d = sentinel::detail;

namespace {

d::task<int> leaf(int x) {
  co_return x + 1;
}

d::task<int> middle(int x) {
  const int a = co_await leaf(x);
  const int b = co_await leaf(a);
  co_return a + b;
}

d::task<std::string> throws_inside() {
  (void)co_await leaf(1);
  throw std::runtime_error("from the leaf's caller");
}

d::task<std::error_code> wait_for(asio::steady_timer& t, std::chrono::milliseconds ms) {
  t.expires_after(ms);
  co_return co_await t.async_wait(d::use_task);
}

// Waits, then reports the error and whether the chain's state recorded a cancellation.
d::task<std::pair<std::error_code, bool>> wait_and_look(asio::steady_timer& t, bool allow_total) {
  d::task_context& ctx = co_await d::this_task;
  if (allow_total) ctx.reset(asio::enable_total_cancellation());
  const std::error_code ec = co_await wait_for(t, 10s);
  co_return std::pair{ec, d::was_cancelled(ctx.cancellation_state())};
}

asio::awaitable<int> an_awaitable(asio::steady_timer& t, int x) {
  t.expires_after(1ms);
  co_await t.async_wait(asio::use_awaitable);
  if (x < 0) throw std::invalid_argument("negative");
  co_return x * 2;
}

d::task<int> through_awaitable(asio::steady_timer& t, int x) {
  co_return co_await d::from_awaitable(an_awaitable(t, x));
}

}  // namespace

TEST_CASE("task: nested tasks return their values through async_run", "[task]") {
  asio::io_context io;
  int got = 0;
  bool called = false;
  bool called_inside = true;
  // Started on the executor's own thread, the chain runs at once and never suspends: the handler still
  // runs only after the initiating call returned.
  asio::post(io, [&] {
    d::async_run(middle(1), io.get_executor(), [&](std::exception_ptr e, int v) {
      CHECK_FALSE(e);
      got = v;
      called = true;
    });
    called_inside = called;
  });
  io.run();
  CHECK(called);
  CHECK_FALSE(called_inside);
  CHECK(got == 2 + 3);
}

TEST_CASE("task: an exception reaches the handler as an exception_ptr", "[task]") {
  asio::io_context io;
  std::exception_ptr got;
  d::async_run(throws_inside(), io.get_executor(), [&](std::exception_ptr e, std::string) { got = e; });
  io.run();
  REQUIRE(got);
  CHECK_THROWS_WITH(std::rethrow_exception(got), "from the leaf's caller");
}

TEST_CASE("task: an Asio operation awaited with use_task returns its code", "[task]") {
  asio::io_context io;
  asio::steady_timer t(io);
  std::error_code got = asio::error::fault;
  d::async_run(wait_for(t, 1ms), io.get_executor(), [&](std::exception_ptr e, std::error_code ec) {
    CHECK_FALSE(e);
    got = ec;
  });
  io.run();
  CHECK_FALSE(got);
}

TEST_CASE("task: the root handler's cancellation slot reaches the awaited operation", "[task]") {
  asio::io_context io;
  asio::steady_timer t(io);
  asio::cancellation_signal sig;
  std::pair<std::error_code, bool> got{};
  bool done = false;
  d::async_run(
      wait_and_look(t, false), io.get_executor(),
      asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e, std::pair<std::error_code, bool> r) {
        CHECK_FALSE(e);
        got = r;
        done = true;
      }));
  asio::steady_timer later(io);
  later.expires_after(5ms);
  later.async_wait([&](std::error_code) { sig.emit(asio::cancellation_type::terminal); });
  io.run_for(5s);
  REQUIRE(done);
  CHECK(got.first == asio::error::operation_aborted);
  CHECK(got.second);
  CHECK_FALSE(sig.slot().has_handler());  // the chain's state left the slot when it finished
}

TEST_CASE("task: the state's filter decides which cancellation types reach it", "[task]") {
  asio::io_context io;
  asio::steady_timer t(io);
  asio::cancellation_signal sig;
  const bool allow_total = GENERATE(false, true);
  std::pair<std::error_code, bool> got{};
  bool done = false;
  d::async_run(
      wait_and_look(t, allow_total), io.get_executor(),
      asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr, std::pair<std::error_code, bool> r) {
        got = r;
        done = true;
      }));
  asio::steady_timer later(io);
  later.expires_after(5ms);
  later.async_wait([&](std::error_code) {
    sig.emit(asio::cancellation_type::total);
    t.expires_after(1ms);  // (ends the wait that total cancellation did not)
  });
  io.run_for(5s);
  REQUIRE(done);
  if (allow_total) {
    CHECK(got.first == asio::error::operation_aborted);
    CHECK(got.second);
  } else {
    // Terminal only, as a new chain starts (co_spawn's default): total cancellation is filtered out; the
    // re-armed timer's wait ended with operation_aborted from expires_after, and the state saw nothing.
    CHECK(got.first == asio::error::operation_aborted);
    CHECK_FALSE(got.second);
  }
}

TEST_CASE("task: an awaitable runs inside a task, its value and its exception", "[task]") {
  asio::io_context io;
  asio::steady_timer t(io);
  int got = 0;
  std::exception_ptr thrown;
  d::async_run(through_awaitable(t, 21), io.get_executor(), [&](std::exception_ptr e, int v) {
    CHECK_FALSE(e);
    got = v;
  });
  io.run();
  CHECK(got == 42);
  io.restart();
  d::async_run(through_awaitable(t, -1), io.get_executor(), [&](std::exception_ptr e, int) { thrown = e; });
  io.run();
  REQUIRE(thrown);
  CHECK_THROWS_AS(std::rethrow_exception(thrown), std::invalid_argument);
}

TEST_CASE("task: async_run with use_awaitable from an awaitable", "[task]") {
  asio::io_context io;
  asio::steady_timer t(io);
  int got = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        got = co_await d::async_run(middle(5), io.get_executor(), asio::use_awaitable);
        const std::error_code ec =
            co_await d::async_run(wait_for(t, 1ms), io.get_executor(), asio::use_awaitable);
        CHECK_FALSE(ec);
      },
      asio::detached);
  io.run();
  CHECK(got == 6 + 7);
}

TEST_CASE("task: a chain whose executor is destroyed unrun is freed with it", "[task]") {
  // Started from outside the executor's thread: the start is posted, and the io_context is destroyed
  // before it runs. The chain's frames and the handler are destroyed, not leaked (ASan's leak check).
  auto called = std::make_shared<bool>(false);
  {
    asio::io_context io;
    d::async_run(middle(1), io.get_executor(), [called](std::exception_ptr, int) { *called = true; });
  }
  CHECK_FALSE(*called);
  CHECK(called.use_count() == 1);
}

namespace {
d::task<std::error_code> holding(std::shared_ptr<int> keep, asio::steady_timer& t) {
  (void)keep;
  co_return co_await wait_for(t, 10s);  // a nested task, pending on the timer
}
}  // namespace

TEST_CASE("task: a chain pending on an operation is destroyed with its io_context", "[task]") {
  // The operation's handler is destroyed unrun: the chain goes with it, every frame, what the frames
  // hold, and the root's handler (ASan's leak check sees the frames).
  auto keep = std::make_shared<int>(0);
  auto called = std::make_shared<bool>(false);
  {
    asio::io_context io;
    asio::steady_timer t(io);
    d::async_run(holding(keep, t), io.get_executor(),
                 [called](std::exception_ptr, std::error_code) { *called = true; });
    io.poll();  // started: now waiting on the timer
    CHECK(keep.use_count() == 2);
  }
  CHECK_FALSE(*called);
  CHECK(keep.use_count() == 1);
  CHECK(called.use_count() == 1);
}

TEST_CASE("task: a completion handler that throws propagates out of run(), and nothing is left behind",
          "[task]") {
  // The handler runs inline (dispatch) once the chain has suspended: its exception leaves the chain's
  // resumer, as an Asio handler's leaves run(). The root frame and its work guards go with it (ASan's leak
  // check; run() returning again proves no work guard is left).
  asio::io_context io;
  asio::steady_timer t(io);
  auto keep = std::make_shared<int>(0);
  d::async_run(holding(keep, t), io.get_executor(),
               [](std::exception_ptr, std::error_code) { throw std::runtime_error("from the handler"); });
  t.expires_after(1ms);  // (holding re-arms it for 10 s: cancel it once the chain waits)
  asio::post(io, [&] { t.cancel(); });
  CHECK_THROWS_WITH(io.run(), "from the handler");
  CHECK(keep.use_count() == 1);
  io.restart();
  io.run();  // returns: no work guard of the chain is left
  // And a chain that completes without suspending (its handler posted) throws out of run() too.
  io.restart();
  d::async_run(middle(1), io.get_executor(),
               [](std::exception_ptr, int) { throw std::logic_error("posted"); });
  CHECK_THROWS_WITH(io.run(), "posted");
}
