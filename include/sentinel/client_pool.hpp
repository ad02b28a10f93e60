// sentinel: the thread-safe front: a pool of workers, each with its own http_client.
#pragma once

#include <sentinel/config.hpp>
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

#include <array>
#include <atomic>
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

namespace detail {
asio::awaitable<outcome> worker_exchange(worker& w, request req);
}

/// A pool of workers: the only thread-safe type in sentinel, and the one to share across threads.
///
/// Each worker is a thread with its own io_context and its own http_client (client-per-worker: nothing
/// is shared, so nothing on the request path takes a lock). A task is dispatched round-robin to a worker
/// and runs there from start to end; its result comes back to the caller's executor through any Asio
/// completion token.
///
/// The pool scales at run time. Removing workers (scale_down, stop, the destructor) first stops sending
/// them new tasks, then lets their in-flight tasks finish; tasks still running after
/// `pool_options::drain_timeout` are cancelled (terminal) and complete with operation_aborted. Nothing
/// in flight is lost and nothing completes twice. Operations started after stop() complete with
/// error::pool_stopped.
///
/// Completion handlers without an associated executor (plain callbacks, use_future) run on the pool's own
/// completion thread (get_executor()), never on a worker.
///
/// @par Lifetime  An operation keeps work counted on its completion executor until the pool is done
/// with it, which can be a moment after the handler ran. Before destroying an io_context that
/// completions go to, either run it until run() returns, or stop (or destroy) the pool first. (As with
/// any work released from another thread, a context whose last work the pool releases is stopped, by
/// Asio's rule: restart() it before running it again with run_one()/run_for().)
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
   *               R = void): use_awaitable (rethrows), use_future, experimental::deferred, a callback.
   * @par Completion  Never inside this call. Runs on the handler's associated executor, else on
   *               get_executor(); never on a worker thread (unless the handler is bound to one). After
   *               stop(): an exception_ptr holding std::system_error(error::pool_stopped).
   * @par Cancellation  The caller's cancellation signal is forwarded to the worker by a post and
   *               delivered to the task's coroutine (every type; the task's awaited operations decide what
   *               they support). Emitting it from the handler's executor is safe.
   * @par Thread safety  Safe from any thread.
   */
  template <class Task, class Token = asio::default_completion_token_t<executor_type>>
  auto async_run(Task task, Token&& token = asio::default_completion_token_t<executor_type>()) {
    using value_type = typename detail::awaitable_value<std::invoke_result_t<Task&, worker&>>::type;
    if constexpr (std::is_void_v<value_type>) {
      return asio::async_initiate<Token, void(std::exception_ptr)>(initiate_run<Task>{this}, token,
                                                                   std::move(task));
    } else {
      return asio::async_initiate<Token, void(std::exception_ptr, value_type)>(initiate_run<Task>{this},
                                                                               token, std::move(task));
    }
  }

  /// Sends one request through the next worker's http_client.
  /**
   * @param req    Moved into the operation and on to the worker; never referenced after this call.
   * @param token  Completion token for `void(std::error_code, response)`.
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
  template <class Token = asio::default_completion_token_t<executor_type>>
  auto async_send(request req, Token&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<Token, void(std::error_code, response)>(initiate_send{this}, token,
                                                                        std::move(req));
  }

  /// Adds `n` workers (started before this returns).
  void scale_up(std::size_t n);
  /// Removes `n` workers (the newest), draining them first; at least one worker always remains (use
  /// stop() to remove all). Blocks until the removed workers' threads have ended.
  void scale_down(std::size_t n);
  /// Current number of workers taking new tasks.
  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }
  /// Drains and removes every worker. Idempotent. Later operations complete with error::pool_stopped.
  void stop();
  /// A snapshot of every worker's counters, and totals.
  pool_stats stats() const;
  const pool_options& options() const noexcept { return options_; }

 private:
  template <class Task>
  struct initiate_run {
    client_pool* pool;
    template <class Handler>
    void operator()(Handler&& handler, Task task) const {
      using value_type = typename detail::awaitable_value<std::invoke_result_t<Task&, worker&>>::type;
      auto home = asio::get_associated_executor(handler, pool->get_executor());
      worker* w = pool->admit();
      if (w == nullptr) {
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
      detail::run_on_worker(
          *w, std::forward<Handler>(handler), home,
          [task = std::move(task)](worker& wk) mutable { return task(wk); },
          [](auto h, std::exception_ptr e, auto&&... value) { std::move(h)(e, std::move(value)...); });
    }
  };

  struct initiate_send {
    client_pool* pool;
    template <class Handler>
    void operator()(Handler&& handler, request req) const {
      auto home = asio::get_associated_executor(handler, pool->get_executor());
      worker* w = pool->admit();
      if (w == nullptr) {
        detail::complete_on_home(std::forward<Handler>(handler), home, [](auto h) {
          std::move(h)(make_error_code(error::pool_stopped), response());
        });
        return;
      }
      detail::run_on_worker(
          *w, std::forward<Handler>(handler), home,
          [req = std::move(req)](worker& wk) mutable { return detail::worker_exchange(wk, std::move(req)); },
          [](auto h, std::exception_ptr e, detail::outcome o) {
            if (e) o.ec = make_error_code(error::internal);
            std::move(h)(o.ec, std::move(o.res));
          });
    }
  };

  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  static constexpr std::size_t slots_per_chunk = 64;
  static constexpr std::size_t max_chunks = 1024;  // 65,536 workers at most

  /// A dispatch slot. Never freed before the pool, so a dispatcher holding a stale index is always safe.
  struct alignas(64) slot {
    std::atomic<std::uint64_t> gate{closed_bit};  // tasks admitted and not finished, plus closed_bit
    std::atomic<worker*> w{nullptr};
  };

  /// Picks the next worker and admits one task to it (one atomic increment); nullptr once stopped.
  worker* admit() noexcept;
  slot& slot_at(std::size_t i) const noexcept { return chunks_[i / slots_per_chunk][i % slots_per_chunk]; }
  void remove_workers(std::size_t from, std::size_t to);  // requires scale_mutex_

  pool_options options_;
  asio::io_context completion_ctx_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> completion_work_;
  std::thread completion_thread_;

  std::array<std::unique_ptr<slot[]>, max_chunks> chunks_{};
  std::atomic<std::size_t> size_{0};
  std::size_t next_id_ = 1;                       // under scale_mutex_
  std::vector<std::unique_ptr<worker>> workers_;  // index i lives in slot i; under scale_mutex_
  client_stats retired_;                          // counters of removed workers; under scale_mutex_
  std::uint64_t retired_tasks_ = 0;
  mutable std::mutex scale_mutex_;
  bool stopped_ = false;
};

}  // namespace sentinel
