// sentinel: client_pool: workers, the dispatcher, scaling. See docs/dispatcher.md and docs/pool.md.
#include <sentinel/client_pool.hpp>

#include "client/client_access.hpp"
#include "client/run_loop.hpp"

#include <algorithm>
#include <cstdio>

namespace sentinel {

asio::awaitable<detail::outcome> client_pool::exchange_on(worker& w, request req) {
  // The exchange is a task that filters cancellation itself: everything the pool's signal says reaches it.
  co_await asio::this_coro::throw_if_cancelled(false);
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  co_return co_await detail::async_run(detail::client_access::exchange(w.client(), std::move(req)),
                                       w.get_executor(), asio::use_awaitable);
}

std::error_code client_pool::code_of(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const detail::not_started& x) {
    return x.code();
  } catch (const std::exception& x) {
    std::fprintf(stderr, "sentinel: an exchange threw (reported as error::internal): %s\n", x.what());
  } catch (...) {
    std::fprintf(stderr, "sentinel: an exchange threw a non-std exception (reported as error::internal)\n");
  }
  return make_error_code(error::internal);
}

namespace {

// Round robin without a shared counter: each calling thread walks the workers in order from its own
// starting point. One thread submitting N tasks spreads them exactly evenly; several threads each do,
// so the total is even too, and no cache line bounces between callers. (The one atomic increment of a
// dispatch is the admission on the chosen worker's gate.)
std::size_t next_cursor() noexcept {
  thread_local std::size_t cursor = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return cursor++;
}
}  // namespace

client_pool::client_pool(pool_options options) : options_(std::move(options)) {
  completion_work_.emplace(asio::make_work_guard(completion_ctx_));
  completion_thread_ = std::thread([this] {
    // The same rule as the workers' (run_loop.hpp): report and go on, whatever was thrown.
    detail::run_reporting(completion_ctx_, options_.on_handler_exception, "completion thread");
  });
  scale_up(std::max<std::size_t>(options_.workers, 1));
}

client_pool::~client_pool() {
  stop();
  completion_work_.reset();
  if (completion_thread_.joinable()) completion_thread_.join();
}

client_pool::executor_type client_pool::get_executor() const noexcept {
  return const_cast<asio::io_context&>(completion_ctx_).get_executor();
}

detail::admission client_pool::admit() noexcept {
  for (;;) {
    const std::size_t n = size_.load(std::memory_order_acquire);
    if (n == 0) return {};
    slot* s = dispatch_at(next_cursor() % n).load(std::memory_order_acquire);
    const std::uint64_t before = s->gate.fetch_add(1, std::memory_order_acq_rel);
    if ((before & closed_bit) == 0) return detail::admission(s->w.load(std::memory_order_acquire), &s->gate);
    // Lost a race with scale_down: this worker is leaving. Undo and pick again (size_ is already lower).
    s->gate.fetch_sub(1, std::memory_order_acq_rel);
  }
}

client_pool::slot* client_pool::take_slot() {
  if (!free_slots_.empty()) {
    slot* s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  if (slots_made_ == max_chunks * slots_per_chunk) return nullptr;
  if (slots_made_ % slots_per_chunk == 0) slot_chunks_.push_back(std::make_unique<slot[]>(slots_per_chunk));
  return &slot_chunks_.back()[slots_made_++ % slots_per_chunk];
}

void client_pool::scale_up(std::size_t n) {
  std::lock_guard lock(scale_mutex_);
  if (stopped_ || n == 0) return;
  const std::size_t from = workers_.size();
  const std::size_t to = std::min(from + n, max_chunks * slots_per_chunk);
  for (std::size_t i = from; i < to; ++i) {
    auto& chunk = dispatch_[i / slots_per_chunk];
    if (!chunk) chunk = std::make_unique<std::atomic<slot*>[]>(slots_per_chunk);
    slot* s = take_slot();
    if (s == nullptr) break;  // every slot is taken (by workers still draining, too)
    member m{nullptr, s};
    try {
      m.w.reset(new worker(next_id_, options_.client, s->gate, options_.on_handler_exception));
      m.w->start();
    } catch (...) {
      free_slots_.push_back(s);  // a worker that could not start leaves nothing behind
      throw;
    }
    ++next_id_;
    s->w.store(m.w.get(), std::memory_order_release);
    s->gate.fetch_and(~closed_bit, std::memory_order_acq_rel);  // open: dispatchers may admit now
    dispatch_at(i).store(s, std::memory_order_release);
    workers_.push_back(std::move(m));
    size_.store(workers_.size(), std::memory_order_release);
  }
}

void client_pool::scale_down(std::size_t n) {
  std::vector<member> leaving;
  {
    std::lock_guard lock(scale_mutex_);
    if (stopped_ || n == 0) return;
    const std::size_t from = workers_.size();
    const std::size_t keep = from > n ? from - n : 1;
    if (keep >= from) return;
    leaving = detach_workers(keep);
  }
  drain_and_retire(std::move(leaving));
}

void client_pool::stop() {
  std::vector<member> leaving;
  {
    std::lock_guard lock(scale_mutex_);
    if (!stopped_) {
      stopped_ = true;
      leaving = detach_workers(0);
    }
  }
  drain_and_retire(std::move(leaving));
  // Workers that a concurrent scale_down() is draining are part of "every worker" too. Waiting on the
  // condition variable releases the mutex: stats() and friends do not wait.
  std::unique_lock lock(scale_mutex_);
  leaving_done_.wait(lock, [this] { return leaving_.empty(); });
}

std::vector<client_pool::member> client_pool::detach_workers(std::size_t keep) {
  // 1. No new dispatches: shrink the range first, then close each gate (a dispatcher that read the old
  //    size sees the closed gate and picks again).
  size_.store(keep, std::memory_order_release);
  for (std::size_t i = keep; i < workers_.size(); ++i)
    workers_[i].s->gate.fetch_or(closed_bit, std::memory_order_acq_rel);
  // 2. Drain all of them at once: in-flight tasks finish (or are cancelled after the grace).
  std::vector<member> out;
  out.reserve(workers_.size() - keep);
  leaving_.reserve(leaving_.size() + workers_.size() - keep);
  for (std::size_t i = keep; i < workers_.size(); ++i) {
    workers_[i].w->begin_drain(options_.drain_timeout);
    leaving_.push_back(workers_[i].w.get());
    out.push_back(std::move(workers_[i]));
  }
  workers_.resize(keep);
  return out;
}

void client_pool::drain_and_retire(std::vector<member> leaving) {
  if (leaving.empty()) return;
  // 3. Join without the lock: a drain can take pool_options::drain_timeout and more.
  for (auto& m : leaving)
    m.w->join();
  {
    std::lock_guard lock(scale_mutex_);
    for (auto& m : leaving) {
      const worker_stats s = m.w->stats();
      client_stats counters = s.client;
      counters.open_connections = counters.idle_connections = 0;  // gauges of a gone worker
      retired_ += counters;
      retired_tasks_ += s.tasks;
      leaving_.erase(std::find(leaving_.begin(), leaving_.end(), m.w.get()));
    }
  }
  leaving_done_.notify_all();
  // 4. Threads have ended and stats() no longer sees them: destroy the workers, then free their slots
  //    for new workers (a stale dispatcher that still reaches a freed slot finds it closed, or admits to
  //    whichever worker opened it since: both are correct).
  std::vector<slot*> freed;
  freed.reserve(leaving.size());
  for (auto& m : leaving) {
    m.s->w.store(nullptr, std::memory_order_release);
    freed.push_back(m.s);
    m.w.reset();
  }
  std::lock_guard lock(scale_mutex_);
  free_slots_.insert(free_slots_.end(), freed.begin(), freed.end());
}

pool_stats client_pool::stats() const {
  std::lock_guard lock(scale_mutex_);
  pool_stats out;
  out.total = retired_;
  out.tasks = retired_tasks_;
  out.workers.reserve(workers_.size() + leaving_.size());
  auto add = [&out](const worker& w) {
    out.workers.push_back(w.stats());
    out.total += out.workers.back().client;
    out.tasks += out.workers.back().tasks;
  };
  for (const auto& m : workers_)
    add(*m.w);
  for (const worker* w : leaving_)
    add(*w);
  return out;
}

}  // namespace sentinel
