// sentinel: a worker thread with its own io_context and http_client. See docs/pool.md ("Draining").
#include <sentinel/worker.hpp>

#include "client_core.hpp"

#include <cstdio>
#include <exception>

namespace sentinel {
namespace {
constexpr std::uint64_t count_mask = (std::uint64_t{1} << 63) - 1;
}

worker::worker(std::size_t id, const client_options& options, std::atomic<std::uint64_t>& gate)
    : id_(id),
      ctx_(1),  // one thread runs it: lets Asio skip some locking
      work_(asio::make_work_guard(ctx_)),
      client_(ctx_.get_executor(), options),
      gate_(gate),
      drain_timer_(ctx_) {
  // This client's executor runs forever (until drained), so background timers may stay pending.
  client_.core()->set_background_timers(true);
}

worker::~worker() {
  join();
}

void worker::start() {
  thread_ = std::thread([this] {
    thread_id_.store(std::this_thread::get_id(), std::memory_order_release);
    client_.core()->owner.bind(std::this_thread::get_id());
    for (;;) {
      try {
        ctx_.run();
        break;
      } catch (const std::exception& e) {
        // A handler threw (a user's callback bound to this worker, say). Keep the worker alive: the
        // tasks it runs must still complete.
        std::fprintf(stderr, "sentinel: worker %zu: exception escaped a handler: %s\n", id_, e.what());
      } catch (...) {
        std::fprintf(stderr, "sentinel: worker %zu: unknown exception escaped a handler\n", id_);
      }
    }
  });
}

worker_stats worker::stats() const noexcept {
  worker_stats s;
  s.id = id_;
  s.tasks = tasks_.load(std::memory_order_relaxed);
  s.tasks_in_flight = in_flight_.load(std::memory_order_relaxed);
  s.client = client_.stats();
  return s;
}

void worker::task_started(asio::cancellation_signal& sig) {
  active_.insert(&sig);
  tasks_.store(tasks_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  in_flight_.store(in_flight_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void worker::task_finished(asio::cancellation_signal& sig) noexcept {
  active_.erase(&sig);
  in_flight_.store(in_flight_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  gate_.fetch_sub(1, std::memory_order_acq_rel);
  if (draining_) check_drained();
}

void worker::begin_drain(std::chrono::milliseconds grace) {
  asio::post(ctx_, [this, grace] {
    draining_ = true;
    drain_timer_.expires_after(grace);
    drain_timer_.async_wait([this](std::error_code ec) {
      if (!ec) on_grace_expired();
    });
    check_drained();
  });
}

void worker::check_drained() noexcept {
  if (!draining_ || !work_) return;
  if ((gate_.load(std::memory_order_acquire) & count_mask) != 0) {
    if (!active_.empty()) return;  // task_finished() will call again
    // Admitted tasks still queued on this io_context will start and finish; a dispatcher that lost the
    // race with the closing gate undoes its increment at once. Look again shortly.
    asio::post(ctx_, [this] { check_drained(); });
    return;
  }
  // Nothing in flight and nothing can be admitted any more: close the client (idle connections,
  // timers) and let run() return once the last handlers have run.
  drain_timer_.cancel();
  client_.shutdown();
  work_.reset();
}

void worker::on_grace_expired() noexcept {
  grace_expired_ = true;
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
