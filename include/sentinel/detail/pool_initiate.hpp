// sentinel: the thread boundary of client_pool. The token front doors in client_pool.hpp call these.
//
// Caller side (any thread): admit a worker (one atomic increment on its gate), capture the handler's home
// executor with a work guard, and forward the caller's cancellation slot to a worker-side signal by
// *posting* the emit (Asio 1.22.1's co_spawn does not marshal cancellation across threads: emitting on
// the caller's thread races with the worker; see docs/cancellation.md). Then post the task.
// Worker side: create the coroutine frame on the worker (so the recycling allocator reuses it there),
// co_spawn it, and on completion post the result to the home executor, where the caller's slot is
// cleared and the handler runs.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/detail/outcome.hpp>
#include <sentinel/error.hpp>
#include <sentinel/worker.hpp>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <exception>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

namespace sentinel::detail {

/// Worker internals used by the templates below.
struct worker_access {
  static void task_started(worker& w, asio::cancellation_signal& s) { w.task_started(s); }
  static void task_finished(worker& w, asio::cancellation_signal& s) noexcept { w.task_finished(s); }
};

/// Installed in the caller's cancellation slot: forwards the request to the worker by a post.
struct post_cancel {
  std::shared_ptr<asio::cancellation_signal> sig;
  asio::io_context::executor_type ex;
  void operator()(asio::cancellation_type type) const {
    asio::post(ex, [sig = sig, type] { sig->emit(type); });
  }
};

template <class T>
struct awaitable_value;
template <class T, class E>
struct awaitable_value<asio::awaitable<T, E>> {
  using type = T;
};

/// One task's worker-side state: the cancellation signal the caller's slot forwards to, and the task
/// callable itself. Heap-allocated once per task: a coroutine lambda's captures live in the lambda
/// object, which must neither move nor die while the coroutine runs.
template <class Make>
struct task_state {
  explicit task_state(Make m) : make(std::move(m)) {}
  asio::cancellation_signal sig;
  Make make;
};

/// Runs `make(worker&)` (which returns an asio::awaitable<T>) on worker `w` and completes `handler` on its
/// home executor with `finish(handler, exception_ptr, T)` (or without T for awaitable<void>).
template <class Handler, class Home, class Make, class Finish>
void run_on_worker(worker& w, Handler handler, Home home, Make make, Finish finish) {
  auto work = asio::make_work_guard(home);
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto state = std::make_shared<task_state<Make>>(std::move(make));
  if (slot.is_connected()) {
    slot.template emplace<post_cancel>(
        post_cancel{std::shared_ptr<asio::cancellation_signal>(state, &state->sig), w.get_executor()});
  }

  asio::post(w.get_executor(), [&w, handler = std::move(handler), work = std::move(work), slot, state,
                                finish = std::move(finish)]() mutable {
    using awaitable_type = decltype(state->make(w));
    using value_type = typename awaitable_value<awaitable_type>::type;
    worker_access::task_started(w, state->sig);
    awaitable_type task;
    std::exception_ptr make_error;
    try {
      task = state->make(w);
    } catch (...) {
      make_error = std::current_exception();  // reported like a task that threw
    }
    auto on_done = [&w, handler = std::move(handler), work = std::move(work), slot, state,
                    finish = std::move(finish)](std::exception_ptr e, auto&&... value) mutable {
      // On the worker: unhook our signal first, so a late cancellation finds nothing to cancel.
      state->sig.slot().clear();
      worker_access::task_finished(w, state->sig);
      // `hold` keeps the caller's context from running out of work until post() has returned: the
      // handler may run (and the caller may destroy its io_context) before post() is done signalling.
      auto hold = asio::make_work_guard(work.get_executor());
      asio::post(hold.get_executor(),
                 [handler = std::move(handler), work = std::move(work), slot, finish = std::move(finish), e,
                  ... value = std::move(value)]() mutable {
                   // Back on the caller's side: the caller's slot is ours to clear, then the handler runs.
                   if (slot.is_connected()) slot.clear();
                   finish(std::move(handler), e, std::move(value)...);
                 });
    };
    if constexpr (std::is_void_v<value_type>) {
      if (make_error) return on_done(make_error);
      asio::co_spawn(w.get_executor(), std::move(task),
                     asio::bind_cancellation_slot(
                         state->sig.slot(),
                         [on_done = std::move(on_done)](std::exception_ptr e) mutable { on_done(e); }));
    } else {
      if (make_error) return on_done(make_error, value_type{});
      asio::co_spawn(
          w.get_executor(), std::move(task),
          asio::bind_cancellation_slot(
              state->sig.slot(), [on_done = std::move(on_done)](std::exception_ptr e, value_type v) mutable {
                on_done(e, std::move(v));
              }));
    }
  });
}

/// Completes `handler` on `home` without running anything (the pool is stopped).
template <class Handler, class Home, class Fn>
void complete_on_home(Handler handler, Home home, Fn fn) {
  auto work = asio::make_work_guard(home);
  auto hold = asio::make_work_guard(home);  // see run_on_worker
  asio::post(hold.get_executor(), [handler = std::move(handler), work = std::move(work),
                                   fn = std::move(fn)]() mutable { fn(std::move(handler)); });
}

}  // namespace sentinel::detail
