// sentinel: the thread boundary of client_pool. The token front doors in client_pool.hpp call these.
// See docs/dispatcher.md and docs/cancellation.md for the why; the rules it keeps (lessons of the
// first milestone): every resource taken has an owner that releases it on every path, anything
// addressed to a worker goes through something that outlives the worker, and every user-supplied
// callable (the task, the handler's move constructor, the handler itself) may throw.
//
// Caller side (any thread): admit a worker (one atomic increment on its gate, owned by an `admission`
// that undoes it unless the worker takes it over), move the handler once into the task's state, capture
// its home executor with a work guard, and forward the caller's cancellation slot to a worker-side
// signal by *posting* the emit (Asio 1.22.1's co_spawn does not marshal cancellation across threads).
// The forwarder holds the worker's io_context by shared_ptr and the task only weakly, so a cancellation
// that arrives after the task is done (or after the worker is gone) is a harmless no-op.
// Worker side: create the coroutine frame on the worker, co_spawn it, and on completion post the result
// to the home executor, where the caller's slot is cleared and the handler runs.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/detail/home_watch.hpp>
#include <sentinel/detail/outcome.hpp>
#include <sentinel/detail/token_check.hpp>
#include <sentinel/error.hpp>
#include <sentinel/worker.hpp>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace sentinel::detail {

/// Worker internals used by the templates below.
struct worker_access {
  /// False when the task must not run (its worker's drain deadline has passed).
  static bool task_started(worker& w, asio::cancellation_signal& s) { return w.task_started(s); }
  static void task_finished(worker& w, asio::cancellation_signal& s) noexcept { w.task_finished(s); }
  static const std::shared_ptr<asio::io_context>& context(const worker& w) noexcept { return w.ctx_; }
};

/// One task admitted to a worker: a count on the worker's gate. Undone on destruction unless the worker
/// took it over (worker::task_finished() then undoes it), so an initiation that throws half-way (a
/// handler whose move throws, bad_alloc in a post) leaves no count behind for a drain to wait on.
class admission {
 public:
  admission() = default;
  admission(worker* w, std::atomic<std::uint64_t>* gate) noexcept : w_(w), gate_(gate) {}
  admission(admission&& o) noexcept
      : w_(std::exchange(o.w_, nullptr)), gate_(std::exchange(o.gate_, nullptr)) {}
  admission& operator=(admission&&) = delete;
  ~admission() {
    if (gate_ != nullptr) gate_->fetch_sub(1, std::memory_order_acq_rel);
  }
  worker* get() const noexcept { return w_; }
  explicit operator bool() const noexcept { return w_ != nullptr; }
  /// The worker owns the count from now on.
  void transfer() noexcept { gate_ = nullptr; }

 private:
  worker* w_ = nullptr;
  std::atomic<std::uint64_t>* gate_ = nullptr;
};

/// Installed in the caller's cancellation slot: forwards the request to the worker by a post. It keeps
/// the worker's io_context alive (never a dangling post, never one into a new worker at the same
/// address) and reaches the task's signal only if the task still exists.
struct post_cancel {
  std::weak_ptr<asio::cancellation_signal> sig;
  std::shared_ptr<asio::io_context> ctx;
  void operator()(asio::cancellation_type type) const {
    asio::post(*ctx, [sig = sig, type] {
      if (auto s = sig.lock()) s->emit(type);  // a finished task has cleared its slot: a no-op then
    });
  }
};

/// What a task that never ran completes with: its worker's drain deadline had passed when it was to
/// start (operation_aborted). A std::system_error, so users of async_run catch it as one.
struct not_started : std::system_error {
  not_started() : std::system_error(make_error_code(asio::error::operation_aborted)) {}
};

/// One task's state, allocated once per task. Caller side: the handler (moved in once, invoked and
/// destroyed on its home executor), the work guard on home and the caller's slot. Worker side: the
/// signal the slot forwards to and the task callable (a coroutine lambda's captures live in the lambda
/// object, which must neither move nor die while the coroutine runs; it is destroyed on the worker when
/// the task is done).
template <class Handler, class Home, class Make, class Finish>
struct task_state {
  using finish_type = Finish;
  template <class H>
  task_state(H&& h, const Home& home_ex, Make&& m, asio::cancellation_slot s)
      : home(home_ex),
        make(std::move(m)),
        handler(std::forward<H>(h)),
        work(asio::make_work_guard(home_ex)),
        caller_slot(s),
        watch(home_ex) {}
  const Home home;
  asio::cancellation_signal sig;
  std::optional<Make> make;
  std::optional<Handler> handler;
  std::optional<asio::executor_work_guard<Home>> work;  // without it the caller's run() returns early
  asio::cancellation_slot caller_slot;
  home_watch watch;
};

/// Marks a task started on its worker; marks it finished when destroyed or finish()ed, on every path.
class task_ticket {
 public:
  task_ticket(worker& w, asio::cancellation_signal& s) noexcept : w_(&w), sig_(&s) {}
  task_ticket(task_ticket&& o) noexcept : w_(std::exchange(o.w_, nullptr)), sig_(o.sig_) {}
  task_ticket& operator=(task_ticket&&) = delete;
  ~task_ticket() { finish(); }
  void finish() noexcept {
    if (w_ != nullptr) worker_access::task_finished(*std::exchange(w_, nullptr), *sig_);
  }

 private:
  worker* w_;
  asio::cancellation_signal* sig_;
};

/// Worker side, last step: unhook the task, then post the result home. Runs on the worker.
template <class State, class... Value>
void complete_home(const std::shared_ptr<State>& state, task_ticket& ticket, std::exception_ptr e,
                   Value&&... value) {
  state->sig.slot().clear();  // a late cancellation finds nothing to cancel
  state->make.reset();        // the task callable dies on its worker
  ticket.finish();
  // `hold` keeps the caller's context from running out of work until post() has returned: the handler
  // may run (and the caller may destroy its io_context) before post() is done signalling.
  auto hold = asio::make_work_guard(state->home);
  asio::post(hold.get_executor(), [state, e, ... value = std::forward<Value>(value)]() mutable {
    // Back on the caller's side: the handler runs once, and it and the guard die here, even if it throws.
    struct release {
      State* s;
      ~release() {
        s->handler.reset();
        s->work.reset();
      }
    } on_exit{state.get()};
    if (state->caller_slot.is_connected()) state->caller_slot.clear();
    typename State::finish_type{}(std::move(*state->handler), e, std::move(value)...);
  });
  state->watch.release();  // from here on the pool no longer touches the home context for this task
}

/// Runs `make(worker&)` (which returns an asio::awaitable<T>) on the admitted worker and completes
/// `handler` on `home` with `Finish{}(handler, exception_ptr, T)` (or without T for awaitable<void>).
/// Throws only before anything was posted (then the admission is undone and the handler destroyed).
template <class Finish, class Handler, class Home, class Make>
void run_on_worker(admission adm, Handler&& handler, const Home& home, Make make) {
  using handler_type = std::decay_t<Handler>;
  using state_type = task_state<handler_type, Home, Make, Finish>;
  worker& w = *adm.get();
  auto slot = asio::get_associated_cancellation_slot(handler);
  // The one copy (an lvalue token, Asio's rule) or move of the handler: it never moves again.
  auto state = std::make_shared<state_type>(std::forward<Handler>(handler), home, std::move(make), slot);
  if (slot.is_connected()) {
    slot.template emplace<post_cancel>(post_cancel{
        std::shared_ptr<asio::cancellation_signal>(state, &state->sig), worker_access::context(w)});
  }
  asio::post(w.get_executor(), [&w, state, adm = std::move(adm)]() mutable {
    using awaitable_type = decltype((*state->make)(w));
    using value_type = typename awaitable_value<awaitable_type>::type;
    const bool may_run = worker_access::task_started(w, state->sig);
    adm.transfer();
    task_ticket ticket(w, state->sig);
    std::exception_ptr early;  // reported like a task that threw
    awaitable_type task;
    if (!may_run) {
      // Admitted before its worker closed, but started after the drain deadline: never run at all.
      early = std::make_exception_ptr(not_started());
    } else {
      try {
        task = (*state->make)(w);
      } catch (...) {
        early = std::current_exception();
      }
    }
    if constexpr (std::is_void_v<value_type>) {
      if (early) return complete_home(state, ticket, early);
      asio::co_spawn(w.get_executor(), std::move(task),
                     asio::bind_cancellation_slot(state->sig.slot(), [state, ticket = std::move(ticket)](
                                                                         std::exception_ptr e) mutable {
                       complete_home(state, ticket, e);
                     }));
    } else {
      if (early) return complete_home(state, ticket, early, value_type{});
      asio::co_spawn(
          w.get_executor(), std::move(task),
          asio::bind_cancellation_slot(state->sig.slot(), [state, ticket = std::move(ticket)](
                                                              std::exception_ptr e, value_type v) mutable {
            complete_home(state, ticket, e, std::move(v));
          }));
    }
  });
}

/// Completes `handler` on `home` without running anything (the pool is stopped).
template <class Handler, class Home, class Fn>
void complete_on_home(Handler&& handler, const Home& home, Fn fn) {
  auto work = asio::make_work_guard(home);
  auto hold = asio::make_work_guard(home);  // see complete_home
  asio::post(hold.get_executor(),
             [handler = std::decay_t<Handler>(std::forward<Handler>(handler)), work = std::move(work),
              fn = std::move(fn)]() mutable { fn(std::move(handler)); });
}

}  // namespace sentinel::detail
