// sentinel test support: drive an io_context until one coroutine finishes, with a deadline.
//
// Catch2 v2 cannot co_await, so async test bodies are coroutines handed to run_until(). A test fails when
// its deadline passes; it never hangs.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace sentinel::test {

namespace detail {

// Shared with the completion handler so that a coroutine that outlives a timed-out run_until() never
// writes into a dead stack frame; the signal lives here for the same reason (the slot points into it).
template <class T>
struct run_state {
  bool done = false;
  std::exception_ptr error;
  std::optional<T> value;
  asio::cancellation_signal cancel;
};

template <>
struct run_state<void> {
  bool done = false;
  std::exception_ptr error;
  asio::cancellation_signal cancel;
};

// Runs handlers one at a time until the coroutine is done or the deadline passes. On timeout the coroutine
// gets a terminal cancellation and up to one more second to unwind, then the test FAILs.
template <class T>
void drive(asio::io_context& ctx, run_state<T>& st, std::chrono::milliseconds deadline) {
  using clock = std::chrono::steady_clock;
  // The guard keeps run_one_until() from returning early when the coroutine waits on another thread.
  auto guard = asio::make_work_guard(ctx);
  const auto end = clock::now() + deadline;
  bool stopped_externally = false;
  while (!st.done) {
    if (ctx.run_one_until(end) == 0) {
      stopped_externally = ctx.stopped();
      break;
    }
  }
  const bool in_time = st.done;
  bool unwound = st.done;
  if (!in_time) {
    ctx.restart();
    st.cancel.emit(asio::cancellation_type::terminal);
    const auto grace = clock::now() + std::chrono::seconds(1);
    while (!st.done && ctx.run_one_until(grace) != 0) {
    }
    unwound = st.done;
  }
  guard.reset();
  ctx.restart();  // leave the context reusable for the next run_until()
  if (stopped_externally) {
    FAIL("run_until: the io_context was stopped before the coroutine completed");
  } else if (!in_time) {
    FAIL("run_until: the coroutine did not complete within "
         << deadline.count() << " ms"
         << (unwound ? " (it completed after a terminal cancel)" : " (and ignored a terminal cancel)"));
  }
}

}  // namespace detail

/// Runs `aw` on `ctx` (co_spawn) and drives `ctx` on the calling thread until the coroutine completes.
/**
 * @param ctx       Must not be run by another thread meanwhile. It is restarted before returning, so one
 *                  context can serve several run_until() calls; other work on it stays queued.
 * @param aw        The coroutine; its exception, if any, is rethrown here.
 * @param deadline  If the coroutine has not completed by then, it is cancelled (terminal) and the current
 *                  Catch2 test FAILs: a test fails, it never hangs.
 * @return The coroutine's result.
 */
template <class T>
T run_until(asio::io_context& ctx, asio::awaitable<T> aw,
            std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto st = std::make_shared<detail::run_state<T>>();
  asio::co_spawn(ctx, std::move(aw),
                 asio::bind_cancellation_slot(st->cancel.slot(), [st](std::exception_ptr e, T v) {
                   st->done = true;
                   st->error = e;
                   if (!e) st->value.emplace(std::move(v));
                 }));
  detail::drive(ctx, *st, deadline);
  if (st->error) std::rethrow_exception(st->error);
  return std::move(*st->value);
}

/// The void overload of run_until(): same deadline, cancellation and exception behaviour.
inline void run_until(asio::io_context& ctx, asio::awaitable<void> aw,
                      std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto st = std::make_shared<detail::run_state<void>>();
  asio::co_spawn(ctx, std::move(aw),
                 asio::bind_cancellation_slot(st->cancel.slot(), [st](std::exception_ptr e) {
                   st->done = true;
                   st->error = e;
                 }));
  detail::drive(ctx, *st, deadline);
  if (st->error) std::rethrow_exception(st->error);
}

}  // namespace sentinel::test
