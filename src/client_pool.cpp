// sentinel: client_pool: workers, the dispatcher, scaling. See docs/dispatcher.md and docs/pool.md.
#include <sentinel/client_pool.hpp>

#include "client_core.hpp"

#include <algorithm>
#include <cstdio>

namespace sentinel {
namespace detail {

asio::awaitable<outcome> worker_exchange(worker& w, request req) {
  return run_exchange(w.client().core(), std::move(req));  // no coroutine frame of its own
}

}  // namespace detail

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
    for (;;) {
      try {
        completion_ctx_.run();
        break;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sentinel: client_pool: exception escaped a completion handler: %s\n", e.what());
      }
    }
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

worker* client_pool::admit() noexcept {
  for (;;) {
    const std::size_t n = size_.load(std::memory_order_acquire);
    if (n == 0) return nullptr;
    slot& s = slot_at(next_cursor() % n);
    const std::uint64_t before = s.gate.fetch_add(1, std::memory_order_acq_rel);
    if ((before & closed_bit) == 0) return s.w.load(std::memory_order_acquire);
    // Lost a race with scale_down: this worker is leaving. Undo and pick again (size_ is already lower).
    s.gate.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void client_pool::scale_up(std::size_t n) {
  std::lock_guard lock(scale_mutex_);
  if (stopped_ || n == 0) return;
  const std::size_t from = workers_.size();
  const std::size_t to = std::min(from + n, max_chunks * slots_per_chunk);
  for (std::size_t i = from; i < to; ++i) {
    auto& chunk = chunks_[i / slots_per_chunk];
    if (!chunk) chunk = std::make_unique<slot[]>(slots_per_chunk);
    slot& s = slot_at(i);
    auto w = std::unique_ptr<worker>(new worker(next_id_++, options_.client, s.gate));
    w->start();
    s.w.store(w.get(), std::memory_order_release);
    s.gate.fetch_and(~closed_bit, std::memory_order_acq_rel);  // open: dispatchers may admit now
    workers_.push_back(std::move(w));
  }
  size_.store(to, std::memory_order_release);
}

void client_pool::scale_down(std::size_t n) {
  std::lock_guard lock(scale_mutex_);
  if (stopped_ || n == 0) return;
  const std::size_t from = workers_.size();
  const std::size_t keep = from > n ? from - n : 1;
  if (keep >= from) return;
  remove_workers(keep, from);
}

void client_pool::stop() {
  std::lock_guard lock(scale_mutex_);
  if (stopped_) return;
  stopped_ = true;
  remove_workers(0, workers_.size());
}

void client_pool::remove_workers(std::size_t keep, std::size_t from) {
  // 1. No new dispatches: shrink the range first, then close each gate (a dispatcher that read the old
  //    size sees the closed gate and picks again).
  size_.store(keep, std::memory_order_release);
  for (std::size_t i = keep; i < from; ++i)
    slot_at(i).gate.fetch_or(closed_bit, std::memory_order_acq_rel);
  // 2. Drain all of them at once, then join: in-flight tasks finish (or are cancelled after the grace).
  for (std::size_t i = keep; i < from; ++i)
    workers_[i]->begin_drain(options_.drain_timeout);
  for (std::size_t i = keep; i < from; ++i) {
    workers_[i]->join();
    const worker_stats s = workers_[i]->stats();
    client_stats counters = s.client;
    counters.open_connections = counters.idle_connections = 0;  // gauges of a gone worker
    retired_ += counters;
    retired_tasks_ += s.tasks;
    slot_at(i).w.store(nullptr, std::memory_order_release);
  }
  // 3. Threads have ended; nothing can reach these workers any more (their gates stay closed).
  workers_.resize(keep);
}

pool_stats client_pool::stats() const {
  std::lock_guard lock(scale_mutex_);
  pool_stats out;
  out.total = retired_;
  out.tasks = retired_tasks_;
  out.workers.reserve(workers_.size());
  for (const auto& w : workers_) {
    out.workers.push_back(w->stats());
    out.total += out.workers.back().client;
    out.tasks += out.workers.back().tasks;
  }
  return out;
}

}  // namespace sentinel
