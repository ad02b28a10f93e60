// sentinel: the coroutine type of the library's request path: a lazily started task whose frames come
// from a per-thread free list (src/transport/frame_pool.cpp), so a steady request allocates no coroutine
// frame.
//
// Written here rather than taken from Asio: `asio::awaitable` fixes its frames' operator new to Asio's
// per-thread cache, which holds two blocks of at most 1,020 bytes per purpose, while a request nests
// four or five frames of up to 2 KiB; a promise of our own cannot co_await an awaitable either (its
// await_suspend takes Asio's own frame type). So:
// - `task<T>` is started by co_await from another task (symmetric transfer, no stack growth), or as the
//   root of a chain by async_run(), which completes an Asio completion handler `void(std::exception_ptr,
//   T)` as co_spawn does: never inside the initiating call, on the handler's executor.
// - Inside a task, an Asio asynchronous operation is awaited with the `use_task` token; it never throws
//   for an error: it returns what the handler was given (one value as itself, several as a tuple).
// - A chain shares one task_context: the executor, and a cancellation state attached to the root
//   handler's cancellation slot, which each awaited operation is bound to; `co_await this_task` gives
//   the context (its state and reset() play the parts of this_coro::cancellation_state and
//   reset_cancellation_state; nothing throws on cancellation, the code checks, see cancel.hpp).
// - from_awaitable() runs an asio::awaitable (the cold paths: connect, TLS, proxies, HTTP/2) inside a
//   task, through co_spawn.
//
// Not thread-safe: a chain runs on its executor's one thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sentinel::detail {

// ---- frames ------------------------------------------------------------------------------------------

/// A coroutine frame of `size` bytes: from this thread's free list for its size class, else new.
void* frame_allocate(std::size_t size);
/// Gives a frame back to this thread's free list (bounded; beyond the bound, delete).
void frame_deallocate(void* p, std::size_t size) noexcept;

/// The same free lists as an allocator, for the Asio operations a task awaits: a socket wait or a timer
/// wait is allocated through its handler's allocator, and Asio's own per-thread cache keeps two, while
/// 64 requests in flight have 64 waits pending.
template <class T>
struct frame_allocator {
  using value_type = T;
  frame_allocator() noexcept = default;
  template <class U>
  frame_allocator(const frame_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned operation");
    return static_cast<T*>(frame_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { frame_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const frame_allocator<U>&) const noexcept {
    return true;
  }
};

// ---- the context a chain shares ---------------------------------------------------------------------

class task_context {
 public:
  task_context(asio::any_io_executor ex, asio::cancellation_slot parent)
      : ex_(std::move(ex)), parent_(parent), state_(parent, asio::enable_terminal_cancellation()) {}
  task_context(const task_context&) = delete;
  task_context& operator=(const task_context&) = delete;

  const asio::any_io_executor& executor() const noexcept { return ex_; }
  /// What this_coro::cancellation_state is to an awaitable.
  const asio::cancellation_state& cancellation_state() const noexcept { return state_; }
  /// What this_coro::reset_cancellation_state(filter) is: a fresh state (nothing recorded) that lets
  /// through what `filter` lets through.
  template <class Filter>
  void reset(Filter filter) {
    state_ = asio::cancellation_state(parent_, filter, filter);
  }
  /// True once an operation of the chain has suspended it (its completion then came from the executor).
  bool switched() const noexcept { return switched_; }
  void note_suspended() noexcept { switched_ = true; }
  /// The frame at the root of the chain (async_run's), which owns every task below it.
  void set_root(std::coroutine_handle<> root) noexcept { root_ = root; }
  /// Destroys the chain from its root: for an operation's handler destroyed without being called.
  void destroy_chain() noexcept { std::exchange(root_, {}).destroy(); }
  std::coroutine_handle<> root() const noexcept { return root_; }

 private:
  asio::any_io_executor ex_;
  asio::cancellation_slot parent_;
  asio::cancellation_state state_;
  bool switched_ = false;
  std::coroutine_handle<> root_;
};

/// `co_await this_task` in a task: its chain's task_context.
struct this_task_t {};
inline constexpr this_task_t this_task{};

template <class T>
class task;

namespace task_impl {

struct promise_base {
  task_context* ctx = nullptr;
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  static void* operator new(std::size_t n) { return frame_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_deallocate(p, n); }

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }

  template <class A>
  A&& await_transform(A&& a) noexcept {
    return std::forward<A>(a);
  }
  auto await_transform(this_task_t) noexcept {
    struct awaiter {
      task_context* ctx;
      bool await_ready() const noexcept { return true; }
      void await_suspend(std::coroutine_handle<>) const noexcept {}
      task_context& await_resume() const noexcept { return *ctx; }
    };
    return awaiter{ctx};
  }
};

template <class T>
struct promise : promise_base {
  std::optional<T> value;
  task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct promise<void> : promise_base {
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace task_impl

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = task_impl::promise<T>;
  using value_type = T;

  task() noexcept = default;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~task() {
    if (h_) h_.destroy();
  }

  /// Awaited from another task: runs in that task's chain (its context), resumes it when done.
  struct awaiter {
    std::coroutine_handle<promise_type> h;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
      h.promise().ctx = parent.promise().ctx;
      h.promise().continuation = parent;
      return h;
    }
    T await_resume() { return h.promise().take(); }
  };
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

  /// Starts the task as the root of a chain on `ctx` (async_run's business).
  std::coroutine_handle<promise_type> release_for(task_context& ctx, std::coroutine_handle<> cont) noexcept {
    h_.promise().ctx = &ctx;
    h_.promise().continuation = cont;
    return h_;
  }
  T take() { return h_.promise().take(); }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace task_impl {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}
}  // namespace task_impl

// ---- awaiting Asio operations -------------------------------------------------------------------------

/// The completion token for an Asio operation awaited in a task.
struct use_task_t {};
inline constexpr use_task_t use_task{};

namespace task_impl {

template <class... R>
struct op_result {
  using type = std::tuple<R...>;
};
template <class R>
struct op_result<R> {
  using type = R;
};
template <>
struct op_result<> {
  using type = void;
};

/// Resumes `h`, a task of the chain whose root frame is `root`. An exception out of resume() comes from
/// the root's completion handler (tasks keep their own): the root then sits at its final suspend point,
/// and is destroyed here before the exception goes on.
inline void resume_chain(std::coroutine_handle<> h, std::coroutine_handle<> root) {
  try {
    h.resume();
  } catch (...) {
    if (root && root.done()) root.destroy();
    throw;
  }
}

/// The operation whose initiation runs on this thread now (see op_awaiter::handler).
inline thread_local const void* initiating_op = nullptr;

template <class Init, class Args, class... R>
class op_awaiter {
 public:
  using result_type = typename op_result<R...>::type;

  op_awaiter(Init init, Args args) : init_(std::move(init)), args_(std::move(args)) {}

  // Resumes the awaiting task. Move-only; the one instance Asio neither invoked nor moved from, when
  // destroyed (its io_context went away with the operation pending), destroys the whole chain, as an
  // awaitable's stack is destroyed with its handler.
  class handler {
   public:
    handler(op_awaiter* self, std::coroutine_handle<> h) noexcept : self_(self), h_(h) {}
    handler(handler&& o) noexcept : self_(std::exchange(o.self_, nullptr)), h_(o.h_) {}
    handler& operator=(handler&&) = delete;
    ~handler() {
      // (Not while the initiation runs: one that throws destroys its handler, and the exception then
      // comes out of co_await.)
      if (self_ != nullptr && initiating_op != self_) self_->ctx_->destroy_chain();
    }

    using executor_type = asio::any_io_executor;
    using cancellation_slot_type = asio::cancellation_slot;
    using allocator_type = frame_allocator<void>;
    executor_type get_executor() const noexcept { return self_->ctx_->executor(); }
    allocator_type get_allocator() const noexcept { return {}; }
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return self_->ctx_->cancellation_state().slot();
    }
    template <class... V>
    void operator()(V&&... v) {
      op_awaiter* self = std::exchange(self_, nullptr);
      if constexpr (sizeof...(R) > 0) self->result_.emplace(std::forward<V>(v)...);
      // (May finish the chain and free `self`: nothing of it is touched after.)
      resume_chain(h_, self->ctx_->root());
    }

   private:
    op_awaiter* self_;
    std::coroutine_handle<> h_;
  };

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    ctx_ = h.promise().ctx;
    ctx_->note_suspended();
    // (A thread-local mark, not a member: once the initiation returns, the operation may already have
    // resumed the task on another thread and freed this awaiter.)
    const void* outer = std::exchange(initiating_op, this);
    try {
      std::apply([&](auto&&... a) { std::move(init_)(handler{this, h}, std::move(a)...); }, std::move(args_));
    } catch (...) {
      initiating_op = outer;
      throw;
    }
    initiating_op = outer;
  }
  result_type await_resume() {
    if constexpr (!std::is_void_v<result_type>) return std::move(*result_);
  }

 private:
  struct none {};
  Init init_;
  Args args_;
  task_context* ctx_ = nullptr;
  std::optional<std::conditional_t<std::is_void_v<result_type>, none, result_type>> result_;
};

}  // namespace task_impl

// ---- the root of a chain ----------------------------------------------------------------------------------

namespace task_impl {

/// The frame that runs a root task and completes the handler: eager, destroys itself when done.
struct root_frame {
  struct promise_type {
    static void* operator new(std::size_t n) { return frame_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_deallocate(p, n); }
    root_frame get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    // The body catches everything but what the completion handler throws when it runs inline: that goes
    // to whoever resumed the chain (out of the io_context's run(), as Asio's own handlers' exceptions
    // do), which then destroys the frame (resume_chain).
    void unhandled_exception() { throw; }
  };
  std::coroutine_handle<promise_type> h;
};

/// Awaits `t` as the root of the chain on `ctx`.
template <class T>
struct root_awaiter {
  task<T>& t;
  task_context& ctx;
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> me) noexcept {
    ctx.set_root(me);
    return t.release_for(ctx, me);
  }
  T await_resume() { return t.take(); }
};

template <class T>
using slot_value = std::conditional_t<std::is_void_v<T>, std::tuple<>, std::tuple<T>>;

template <class T, class Handler>
root_frame run_root(task<T> t, asio::any_io_executor ex, Handler handler) {
  auto spawn_work = asio::make_work_guard(ex);
  auto handler_work = asio::make_work_guard(asio::get_associated_executor(handler, ex));
  std::exception_ptr e;
  slot_value<T> v{};
  bool switched = false;
  {
    task_context ctx(ex, asio::get_associated_cancellation_slot(handler));
    try {
      if constexpr (std::is_void_v<T>)
        co_await root_awaiter<T>{t, ctx};
      else
        std::get<0>(v) = co_await root_awaiter<T>{t, ctx};
    } catch (...) {
      e = std::current_exception();
    }
    switched = ctx.switched();
  }
  // The state attached to the handler's slot dies with the chain.
  auto slot = asio::get_associated_cancellation_slot(handler);
  if (slot.is_connected()) slot.clear();
  auto done = [h = std::move(handler), e, v = std::move(v)]() mutable {
    std::apply([&](auto&&... x) { std::move(h)(e, std::move(x)...); }, std::move(v));
  };
  // Never inside the initiating call: a chain that never suspended completes through post.
  if (switched)
    asio::dispatch(handler_work.get_executor(), std::move(done));
  else
    asio::post(handler_work.get_executor(), std::move(done));
}

/// Resumes a root frame once; destroys it if the executor drops it unrun.
struct root_start {
  std::coroutine_handle<> h;
  explicit root_start(std::coroutine_handle<> c) noexcept : h(c) {}
  root_start(root_start&& o) noexcept : h(std::exchange(o.h, {})) {}
  root_start& operator=(root_start&&) = delete;
  ~root_start() {
    if (h) h.destroy();
  }
  void operator()() {
    const std::coroutine_handle<> root = std::exchange(h, {});
    resume_chain(root, root);
  }
};

template <class T>
struct run_initiation {
  template <class Handler>
  void operator()(Handler&& handler, task<T> t, asio::any_io_executor ex) const {
    root_frame f = run_root<T>(std::move(t), ex, std::forward<Handler>(handler));
    // As co_spawn: at once when called on the executor's thread, else through it.
    asio::dispatch(ex, root_start(f.h));
  }
};

}  // namespace task_impl

/// Runs `t` on `ex` (its thread) as the root of a chain, completing `token` with `void(std::exception_ptr,
/// T)` (`void(std::exception_ptr)` for task<void>); the handler's cancellation slot reaches the chain.
template <class T, class Token>
auto async_run(task<T> t, asio::any_io_executor ex, Token&& token) {
  if constexpr (std::is_void_v<T>)
    return asio::async_initiate<Token, void(std::exception_ptr)>(task_impl::run_initiation<T>{}, token,
                                                                 std::move(t), std::move(ex));
  else
    return asio::async_initiate<Token, void(std::exception_ptr, T)>(task_impl::run_initiation<T>{}, token,
                                                                    std::move(t), std::move(ex));
}

/// An asio::awaitable run inside a task (through co_spawn: a cold path's cost), on the chain's executor
/// and under its cancellation state (everything the state lets through reaches it). Its exceptions
/// propagate.
template <class T>
task<T> from_awaitable(asio::awaitable<T> a);

namespace task_impl {
template <class T>
asio::awaitable<T> quiet(asio::awaitable<T> a) {
  // What the awaitable code expects of its thread: no throwing on cancellation, and the chain's state
  // (already filtered) passed through whole.
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_return co_await std::move(a);
}
}  // namespace task_impl

template <class T>
task<T> from_awaitable(asio::awaitable<T> a) {
  task_context& ctx = co_await this_task;
  if constexpr (std::is_void_v<T>) {
    std::exception_ptr e = co_await asio::co_spawn(ctx.executor(), task_impl::quiet(std::move(a)), use_task);
    if (e) std::rethrow_exception(e);
  } else {
    auto [e, v] = co_await asio::co_spawn(ctx.executor(), task_impl::quiet(std::move(a)), use_task);
    if (e) std::rethrow_exception(e);
    co_return std::move(v);
  }
}

}  // namespace sentinel::detail

template <class R, class... Args>
struct asio::async_result<sentinel::detail::use_task_t, R(Args...)> {
  template <class Init, class... InitArgs>
  static auto initiate(Init&& init, sentinel::detail::use_task_t, InitArgs&&... args) {
    using awaiter =
        sentinel::detail::task_impl::op_awaiter<std::decay_t<Init>, std::tuple<std::decay_t<InitArgs>...>,
                                                std::decay_t<Args>...>;
    return awaiter(std::forward<Init>(init),
                   std::tuple<std::decay_t<InitArgs>...>(std::forward<InitArgs>(args)...));
  }
};
