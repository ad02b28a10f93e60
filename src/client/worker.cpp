// sentinel: a worker thread with its own io_context and http_client. See docs/pool.md ("Draining").
#include <sentinel/worker.hpp>

#include "client/client_access.hpp"
#include "client/run_loop.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <memory_resource>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace sentinel {
namespace {
constexpr std::uint64_t count_mask = (std::uint64_t{1} << 63) - 1;
}

struct worker::impl {
  impl(asio::io_context& ctx, const client_options& options, std::atomic<std::uint64_t>& g,
       exception_hook hook)
      : on_handler_exception(std::move(hook)),
        work(asio::make_work_guard(ctx)),
        client(ctx.get_executor(), options),
        gate(g),
        drain_timer(ctx) {}

  void check_drained(worker& w) noexcept;
  void on_grace_expired() noexcept;

  exception_hook on_handler_exception;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  http_client client;
  std::atomic<std::uint64_t>& gate;  // admission count + closed bit; lives in the pool's slot
  std::atomic<std::thread::id> thread_id{};
  std::thread thread;
  // worker thread only. The running tasks' signals: a set node per task, taken from a pool of nodes that
  // earlier tasks gave back, so a warm worker allocates nothing here (the allocation budget pins it).
  std::pmr::unsynchronized_pool_resource task_nodes;
  std::pmr::unordered_set<asio::cancellation_signal*> active{&task_nodes};
  asio::steady_timer drain_timer;
  // set by begin_drain() on the caller's thread, read by stats(): the worker is leaving from that call on,
  // before the worker thread has run the posted start of its drain
  std::atomic<bool> leaving{false};
  // written on the worker thread, read by stats() anywhere
  std::atomic<bool> draining{false};
  std::atomic<bool> grace_expired{false};
  // any thread (relaxed counters)
  std::atomic<std::uint64_t> tasks{0};
  std::atomic<std::uint64_t> in_flight{0};
};

worker::worker(std::size_t id, const client_options& options, std::atomic<std::uint64_t>& gate,
               exception_hook on_handler_exception)
    : id_(id),
      ctx_(std::make_shared<asio::io_context>(1)),  // one thread runs it: lets Asio skip some locking
      impl_(std::make_unique<impl>(*ctx_, options, gate, std::move(on_handler_exception))) {
  // This client's executor runs forever (until drained), so background timers may stay pending.
  detail::client_access::core(impl_->client).set_background_timers(true);
}

worker::~worker() {
  join();
}

std::thread::id worker::thread_id() const noexcept {
  return impl_->thread_id.load(std::memory_order_acquire);
}

http_client& worker::client() noexcept {
  return impl_->client;
}

void worker::start() {
  // Named before the thread starts: the run loop reports with it and must not allocate to do so.
  auto name = std::make_shared<std::string>("worker " + std::to_string(id_));
  impl_->thread = std::thread([this, name] {
    impl_->thread_id.store(std::this_thread::get_id(), std::memory_order_release);
    detail::client_access::core(impl_->client).owner.bind(std::this_thread::get_id());
    // A handler that throws (a user's callback bound to this worker, say) is reported and the worker
    // goes on: the tasks queued behind it must still complete (run_loop.hpp).
    detail::run_reporting(*ctx_, impl_->on_handler_exception, name->c_str());
  });
}

worker_stats worker::stats() const noexcept {
  worker_stats s;
  s.id = id_;
  s.tasks = impl_->tasks.load(std::memory_order_relaxed);
  s.tasks_in_flight = impl_->in_flight.load(std::memory_order_relaxed);
  s.draining = impl_->leaving.load(std::memory_order_relaxed);
  s.drain_deadline_passed = impl_->grace_expired.load(std::memory_order_relaxed);
  s.client = impl_->client.stats();
  return s;
}

bool worker::task_started(asio::cancellation_signal& sig) {
  impl_->active.insert(&sig);  // first: if it throws, nothing else changed
  impl_->tasks.store(impl_->tasks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  impl_->in_flight.store(impl_->in_flight.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // A task admitted before the worker closed may start after the drain deadline passed: it would never
  // see the terminal cancellation that went to the tasks running then, so it does not run at all and
  // completes with operation_aborted (docs/cancellation.md, "Draining").
  return !impl_->grace_expired.load(std::memory_order_relaxed);
}

void worker::task_finished(asio::cancellation_signal& sig) noexcept {
  impl_->active.erase(&sig);
  impl_->in_flight.store(impl_->in_flight.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  impl_->gate.fetch_sub(1, std::memory_order_acq_rel);
  if (impl_->draining.load(std::memory_order_relaxed)) impl_->check_drained(*this);
}

void worker::begin_drain(std::chrono::milliseconds grace) {
  impl_->leaving.store(true, std::memory_order_relaxed);
  asio::post(*ctx_, [this, grace] {
    impl_->draining.store(true, std::memory_order_relaxed);
    impl_->drain_timer.expires_after(grace);
    impl_->drain_timer.async_wait([this](std::error_code ec) {
      if (!ec) impl_->on_grace_expired();
    });
    impl_->check_drained(*this);
  });
}

void worker::impl::check_drained(worker& w) noexcept {
  if (!draining.load(std::memory_order_relaxed) || !work) return;
  if ((gate.load(std::memory_order_acquire) & count_mask) != 0) {
    if (!active.empty()) return;  // task_finished() will call again
    // Admitted tasks still queued on this io_context will start and finish; a dispatcher that lost the
    // race with the closing gate undoes its increment at once. Look again shortly.
    asio::post(*w.ctx_, [&w] { w.impl_->check_drained(w); });
    return;
  }
  // Nothing in flight and nothing can be admitted any more: close the client (idle connections,
  // timers) and let run() return once the last handlers have run.
  drain_timer.cancel();
  client.shutdown();
  work.reset();
}

void worker::impl::on_grace_expired() noexcept {
  grace_expired.store(true, std::memory_order_relaxed);
  // Copy: a cancelled task may finish (and erase itself) inside emit().
  std::vector<asio::cancellation_signal*> running(active.begin(), active.end());
  for (auto* sig : running) {
    if (active.count(sig)) sig->emit(asio::cancellation_type::terminal);
  }
}

void worker::join() noexcept {
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace sentinel
