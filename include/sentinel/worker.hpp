// sentinel: one worker of a client_pool: a thread, its io_context and its own http_client.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/http_client.hpp>
#include <sentinel/stats.hpp>

#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <thread>

namespace sentinel {

class client_pool;
namespace detail {
struct worker_access;
}

/// A worker: one thread running its own io_context, owning its own http_client (and so its own
/// connection pool, DNS cache and TLS context). Nothing in it is shared with other workers.
///
/// Tasks given to client_pool::async_run receive the worker they run on; everything they do with it
/// (client(), get_executor()) happens on the worker's thread, and the task never leaves that thread.
/// @par Thread safety  id(), thread_id() and stats() from any thread; everything else only on the
/// worker's own thread (debug builds abort otherwise).
class worker {
 public:
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// A number unique within the pool, never reused (1, 2, 3, ... in creation order). For logs.
  std::size_t id() const noexcept { return id_; }
  /// The worker's thread.
  std::thread::id thread_id() const noexcept;
  /// The worker's executor. Anything posted here runs on the worker's thread.
  asio::io_context::executor_type get_executor() noexcept { return ctx_->get_executor(); }
  /// The worker's own client. Use it only from the worker's thread (inside a task).
  http_client& client() noexcept;
  /// True when called from this worker's thread.
  bool running_in_this_thread() const noexcept { return ctx_->get_executor().running_in_this_thread(); }
  /// Counters; safe from any thread.
  worker_stats stats() const noexcept;

 private:
  friend class client_pool;
  friend struct detail::worker_access;
  struct impl;  // the thread, the client, the drain state (src/client/worker.cpp)

  using exception_hook = std::function<void(std::exception_ptr)>;
  worker(std::size_t id, const client_options& options, std::atomic<std::uint64_t>& gate,
         exception_hook on_handler_exception);
  void start();
  // --- worker thread only ---
  /// Registers a task; false when it must not run (it started after the drain deadline).
  bool task_started(asio::cancellation_signal& sig);
  void task_finished(asio::cancellation_signal& sig) noexcept;
  // --- any thread ---
  void begin_drain(std::chrono::milliseconds grace);
  void join() noexcept;

  std::size_t id_;
  // Shared: a cancellation forwarded after the worker is gone still posts into a live (if idle) context.
  std::shared_ptr<asio::io_context> ctx_;
  std::unique_ptr<impl> impl_;
};

}  // namespace sentinel
