// sentinel: a worker thread with its own io_context and http_client. See docs/pool.md ("Draining").
#include <sentinel/worker.hpp>

#include "client_core.hpp"
#include "run_loop.hpp"

#include <string>

namespace sentinel {
namespace {
constexpr std::uint64_t count_mask = (std::uint64_t{1} << 63) - 1;
}

worker::worker(std::size_t id, const client_options& options, std::atomic<std::uint64_t>& gate,
               exception_hook on_handler_exception)
    : id_(id),
      ctx_(std::make_shared<asio::io_context>(1)),  // one thread runs it: lets Asio skip some locking
      on_handler_exception_(std::move(on_handler_exception)),
      work_(asio::make_work_guard(*ctx_)),
      client_(ctx_->get_executor(), options),
      gate_(gate),
      drain_timer_(*ctx_) {
  // This client's executor runs forever (until drained), so background timers may stay pending.
  client_.core()->set_background_timers(true);
}

worker::~worker() {
  join();
}

void worker::start() {
  // Named before the thread starts: the run loop reports with it and must not allocate to do so.
  auto name = std::make_shared<std::string>("worker " + std::to_string(id_));
  thread_ = std::thread([this, name] {
    thread_id_.store(std::this_thread::get_id(), std::memory_order_release);
    client_.core()->owner.bind(std::this_thread::get_id());
    // A handler that throws (a user's callback bound to this worker, say) is reported and the worker
    // goes on: the tasks queued behind it must still complete (run_loop.hpp).
    detail::run_reporting(*ctx_, on_handler_exception_, name->c_str());
  });
}

worker_stats worker::stats() const noexcept {
  worker_stats s;
  s.id = id_;
  s.tasks = tasks_.load(std::memory_order_relaxed);
  s.tasks_in_flight = in_flight_.load(std::memory_order_relaxed);
  s.draining = draining_.load(std::memory_order_relaxed);
  s.drain_deadline_passed = grace_expired_.load(std::memory_order_relaxed);
  s.client = client_.stats();
  return s;
}

bool worker::task_started(asio::cancellation_signal& sig) {
  active_.insert(&sig);  // first: if it throws, nothing else changed
  tasks_.store(tasks_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  in_flight_.store(in_flight_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // A task admitted before the worker closed may start after the drain deadline passed: it would never
  // see the terminal cancellation that went to the tasks running then, so it does not run at all and
  // completes with operation_aborted (docs/cancellation.md, "Draining").
  return !grace_expired_.load(std::memory_order_relaxed);
}

void worker::task_finished(asio::cancellation_signal& sig) noexcept {
  active_.erase(&sig);
  in_flight_.store(in_flight_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  gate_.fetch_sub(1, std::memory_order_acq_rel);
  if (draining_.load(std::memory_order_relaxed)) check_drained();
}

void worker::begin_drain(std::chrono::milliseconds grace) {
  asio::post(*ctx_, [this, grace] {
    draining_.store(true, std::memory_order_relaxed);
    drain_timer_.expires_after(grace);
    drain_timer_.async_wait([this](std::error_code ec) {
      if (!ec) on_grace_expired();
    });
    check_drained();
  });
}

void worker::check_drained() noexcept {
  if (!draining_.load(std::memory_order_relaxed) || !work_) return;
  if ((gate_.load(std::memory_order_acquire) & count_mask) != 0) {
    if (!active_.empty()) return;  // task_finished() will call again
    // Admitted tasks still queued on this io_context will start and finish; a dispatcher that lost the
    // race with the closing gate undoes its increment at once. Look again shortly.
    asio::post(*ctx_, [this] { check_drained(); });
    return;
  }
  // Nothing in flight and nothing can be admitted any more: close the client (idle connections,
  // timers) and let run() return once the last handlers have run.
  drain_timer_.cancel();
  client_.shutdown();
  work_.reset();
}

void worker::on_grace_expired() noexcept {
  grace_expired_.store(true, std::memory_order_relaxed);
  // Copy: a cancelled task may finish (and erase itself) inside emit().
  std::vector<asio::cancellation_signal*> running(active_.begin(), active_.end());
  for (auto* sig : running) {
    if (active_.count(sig)) sig->emit(asio::cancellation_type::terminal);
  }
}

void worker::join() noexcept {
  if (thread_.joinable()) thread_.join();
}

}  // namespace sentinel
