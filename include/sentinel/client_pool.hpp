// sentinel: the thread-safe front: a pool of workers, each with its own http_client.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/detail/handler.hpp>
#include <sentinel/detail/pool_initiate.hpp>
#include <sentinel/error.hpp>
#include <sentinel/options.hpp>
#include <sentinel/request.hpp>
#include <sentinel/response.hpp>
#include <sentinel/stats.hpp>
#include <sentinel/worker.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace sentinel {

/// A pool of workers: the only thread-safe type in sentinel, and the one to share across threads.
///
/// Each worker is a thread with its own io_context and its own http_client (client-per-worker: nothing
/// is shared, so nothing on the request path takes a lock). A task is dispatched round-robin to a worker
/// and runs there from start to end; its result comes back to the caller's executor through any Asio
/// completion token.
///
/// The pool scales at run time. Removing workers (scale_down, stop, the destructor) first stops sending
/// them new tasks, then lets their in-flight tasks finish; tasks still running after
/// `pool_options::drain_timeout` are cancelled (terminal) and complete with operation_aborted, and a task
/// that was admitted but only starts after that deadline completes with operation_aborted without
/// running. A task that ignores the cancellation is waited for. Nothing in flight is lost and nothing
/// completes twice. Operations started after stop() complete with error::pool_stopped. (See
/// docs/cancellation.md, "Draining".)
///
/// Completions run on the handler's associated executor. A plain callback has none: it runs on the pool's
/// own completion thread (get_executor()), never on a worker. use_future's handler is associated with
/// Asio's system executor, so the future is made ready on one of Asio's system threads (which is all a
/// future needs). An exception that escapes a handler on a thread the pool owns (the completion thread,
/// or a worker for handlers bound to it) goes to pool_options::on_handler_exception and that thread goes
/// on running; one escaping a handler on the caller's own context propagates out of the caller's run().
///
/// @par Lifetime  An operation keeps work counted on its completion executor until the pool is done
/// with it, which can be a moment after the handler ran. Before destroying an io_context that
/// completions go to, either run it until run() returns, or stop (or destroy) the pool first; debug
/// builds of the library abort with a message naming the mistake otherwise. (As with any work released
/// from another thread, a context whose last work the pool releases is stopped, by Asio's rule:
/// restart() it before running it again with run_one()/run_for().) A cancellation emitted after the
/// operation finished is a no-op, even if the pool or the worker is gone by then.
///
/// @par Thread safety  Every member function is safe to call from any thread, except that the
/// destructor, stop() and scale_down() must not be called from a worker thread or from the pool's
/// completion thread (they join those threads).
class client_pool {
 public:
  using executor_type = asio::any_io_executor;

  /// Starts `options.workers` workers (at least one) and the completion thread.
  explicit client_pool(pool_options options = {});
  /// stop(), then joins the completion thread.
  ~client_pool();
  client_pool(const client_pool&) = delete;
  client_pool& operator=(const client_pool&) = delete;

  /// The default home for completions whose handler has no associated executor.
  executor_type get_executor() const noexcept;

  /// Runs a task on the next worker and completes with its result.
  /**
   * @param task   A callable `(worker&) -> asio::awaitable<R>`, moved to the worker and invoked there; the
   *               coroutine runs wholly on that worker's thread. R must be default-constructible and
   *               movable (or void).
   * @param token  Completion token for `void(std::exception_ptr, R)` (`void(std::exception_ptr)` for
   *               R = void): use_awaitable (rethrows; the default), use_future, experimental::deferred,
   *               a callback. A task or a callback of another shape fails to compile with a message.
   * @par Completion  Never inside this call. Runs on the handler's associated executor, else on
   *               get_executor(); never on a worker thread (unless the handler is bound to one). After
   *               stop(): an exception_ptr holding std::system_error(error::pool_stopped).
   * @par Cancellation  The caller's cancellation signal is forwarded to the worker by a post and
   *               delivered to the task's coroutine (every type; the task's awaited operations decide what
   *               they support). Emitting it from the handler's executor is safe.
   * @par Thread safety  Safe from any thread.
   */
  template <class Task, class Token = asio::use_awaitable_t<executor_type>>
  auto async_run(Task task, Token&& token = {}) {
    static_assert(detail::valid_task<Task>,
                  "sentinel::client_pool::async_run: the task must be callable as task(sentinel::worker&) "
                  "and return asio::awaitable<R> (a coroutine)");
    using signature = detail::run_signature_t<Task>;
    static_assert(
        detail::valid_token<Token, signature>,
        "sentinel::client_pool::async_run: the completion token must be an Asio token "
        "(use_awaitable, use_future, deferred, ...) or a callback taking (std::exception_ptr) for a "
        "task returning awaitable<void>, (std::exception_ptr, R) for awaitable<R>");
    return asio::async_initiate<Token, signature>(initiate_run<Task>{this}, token, std::move(task));
  }

  /// Sends one request through the next worker's http_client.
  /**
   * @param req    Moved into the operation and on to the worker; never referenced after this call.
   * @param token  Completion token for `void(std::error_code, response)`; the default, use_awaitable,
   *               throws request_error on error (`co_await pool.async_send(req)`).
   * @par Completion  Never inside this call; on the handler's associated executor, else get_executor();
   *               never on a worker. HTTP statuses are data, not errors. After stop(): error::pool_stopped.
   * @par Cancellation  Forwarded to the worker by a post. `terminal`: at any point (the connection is
   *               closed); `total`: until the request starts to be written. Completes with
   *               operation_aborted.
   * @par Thread safety  Safe from any thread.
   * @par Example
   * @code
   *   sentinel::client_pool pool({.workers = 4});
   *   sentinel::request req("GET", "http://127.0.0.1:8080/");
   *   sentinel::response res = co_await pool.async_send(std::move(req), asio::use_awaitable);
   * @endcode
   */
  template <class Token = asio::use_awaitable_t<executor_type>>
  auto async_send(request req, Token&& token = {}) {
    static_assert(detail::valid_token<Token, void(std::error_code, response)>,
                  "sentinel::client_pool::async_send: the completion token must be an Asio token "
                  "(use_awaitable, use_future, deferred, ...) or a callback taking (std::error_code, "
                  "sentinel::response)");
    return detail::initiate_response<Token>(initiate_send{this}, token, std::move(req));
  }

  /// Adds `n` workers (started before this returns). Does not wait for a concurrent scale_down's drain.
  void scale_up(std::size_t n);
  /// Removes `n` workers (the newest), draining them first; at least one worker always remains (use
  /// stop() to remove all). Blocks until the removed workers' threads have ended; other members (stats(),
  /// scale_up()) do not wait for it meanwhile.
  void scale_down(std::size_t n);
  /// Current number of workers taking new tasks.
  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  /// Drains and removes every worker, those a concurrent scale_down() is draining included, and returns
  /// when all have ended. Idempotent. Later operations complete with error::pool_stopped.
  void stop();
  /// A snapshot of every worker's counters (workers still draining included), and totals. Never waits for
  /// a drain.
  pool_stats stats() const;
  const pool_options& options() const noexcept { return options_; }

 private:
  template <class Task>
  struct initiate_run {
    client_pool* pool;
    template <class Handler>
    void operator()(Handler&& handler, Task task) const {
      using value_type = detail::task_value_t<Task>;
      auto home = asio::get_associated_executor(handler, pool->get_executor());
      detail::admission adm = pool->admit();
      if (!adm) {
        detail::complete_on_home(std::forward<Handler>(handler), home, [](auto h) {
          auto e = std::make_exception_ptr(std::system_error(make_error_code(error::pool_stopped)));
          if constexpr (std::is_void_v<value_type>) {
            std::move(h)(e);
          } else {
            std::move(h)(e, value_type{});
          }
        });
        return;
      }
      detail::run_on_worker<finish_run>(std::move(adm), std::forward<Handler>(handler), home,
                                        [task = std::move(task)](worker& wk) mutable { return task(wk); });
    }
  };
  struct finish_run {
    template <class Handler, class... Value>
    void operator()(Handler&& h, std::exception_ptr e, Value&&... value) const {
      std::move(h)(e, std::forward<Value>(value)...);
    }
  };

  struct initiate_send {
    client_pool* pool;
    template <class Handler>
    void operator()(Handler&& handler, request req) const {
      auto home = asio::get_associated_executor(handler, pool->get_executor());
      detail::admission adm = pool->admit();
      if (!adm) {
        response stopped;  // empty, but for what the error's message names
        stopped.info().failure.method = req.method();
        stopped.info().failure.url = req.url().redacted();
        detail::complete_on_home(std::forward<Handler>(handler), home,
                                 [res = std::move(stopped)](auto h) mutable {
                                   std::move(h)(make_error_code(error::pool_stopped), std::move(res));
                                 });
        return;
      }
      detail::run_on_worker<finish_send>(
          std::move(adm), std::forward<Handler>(handler), home,
          [req = std::move(req)](worker& wk) mutable { return exchange_on(wk, std::move(req)); });
    }
  };
  struct finish_send {
    template <class Handler>
    void operator()(Handler&& h, std::exception_ptr e, detail::outcome o) const {
      if (e) o.ec = code_of(e);  // operation_aborted for a task the drain never ran
      std::move(h)(o.ec, std::move(o.res));
    }
  };

  /// The exchange of one request on `w`'s own client, as an awaitable (no coroutine frame of its own).
  static asio::awaitable<detail::outcome> exchange_on(worker& w, request req);
  /// The error code an exchange's exception stands for: operation_aborted for a task the drain never ran
  /// (not_started); anything else is a bug, printed on stderr and reported as error::internal.
  static std::error_code code_of(std::exception_ptr e) noexcept;

  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  static constexpr std::size_t slots_per_chunk = 64;
  static constexpr std::size_t max_chunks = 1024;  // 65,536 slots at most

  /// A worker's admission gate. Slots are never freed before the pool, so a dispatcher holding a stale
  /// pointer is always safe; a slot is reused for a new worker only after its old worker was destroyed.
  struct alignas(64) slot {
    std::atomic<std::uint64_t> gate{closed_bit};  // tasks admitted and not finished, plus closed_bit
    std::atomic<worker*> w{nullptr};
  };
  /// A worker and its slot (workers_ in dispatch order, and those leaving).
  struct member {
    std::unique_ptr<worker> w;
    slot* s = nullptr;
  };

  /// Picks the next worker and admits one task to it (one atomic increment); empty once stopped.
  detail::admission admit() noexcept;
  std::atomic<slot*>& dispatch_at(std::size_t i) const noexcept {
    return dispatch_[i / slots_per_chunk][i % slots_per_chunk];
  }
  slot* take_slot();                                     // requires scale_mutex_
  std::vector<member> detach_workers(std::size_t keep);  // requires scale_mutex_
  void drain_and_retire(std::vector<member> leaving);    // must not hold scale_mutex_

  pool_options options_;
  asio::io_context completion_ctx_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> completion_work_;
  std::thread completion_thread_;

  // Dispatch positions [0, size_) name the workers taking tasks; each points at a slot.
  std::array<std::unique_ptr<std::atomic<slot*>[]>, max_chunks> dispatch_ {};
  std::atomic<std::size_t> size_{0};
  // Under scale_mutex_: slot storage (never freed) and its free list, the workers, and retired counters.
  // The mutex is never held while a thread is joined (stats() must not wait for a drain).
  mutable std::mutex scale_mutex_;
  std::condition_variable leaving_done_;  // signalled when `leaving_` shrinks
  std::vector<std::unique_ptr<slot[]>> slot_chunks_;
  std::size_t slots_made_ = 0;
  std::vector<slot*> free_slots_;
  std::size_t next_id_ = 1;
  std::vector<member> workers_;   // position i is dispatch position i
  std::vector<worker*> leaving_;  // draining outside the lock; their stats still count
  client_stats retired_;          // counters of removed workers
  std::uint64_t retired_tasks_ = 0;
  bool stopped_ = false;
};

}  // namespace sentinel
