// sentinel: the per-client connection pool. See connection_pool.hpp and docs/pool.md.
#include "pool/connection_pool.hpp"

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace sentinel::detail {

struct connection_pool::waiter {
  explicit waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;  // waits until `deadline`; cancel() wakes it early
  std::string origin;
  // 0, or (a retry: allow_idle false) the lowest serial of a session it may use: one opened after it
  // asked, never one that was open or idle before (it may be as stale as the one the retry left).
  std::uint64_t min_serial = 0;
  bool done = false;       // set together with conn, open_slot or ec before the timer is cancelled
  bool open_slot = false;  // handed the right to open a connection (its slot is counted already)
  bool reused = false;
  bool on_connect = false;  // queued behind a connection being opened (may_multiplex)
  std::shared_ptr<session> conn;
  std::error_code ec;
};

connection_pool::connection_pool(std::shared_ptr<connection_context> ctx, const connection_pool_options& opts,
                                 session_factory make)
    : ctx_(std::move(ctx)), opts_(opts), make_(std::move(make)), sweeper_(ctx_->ex) {
  if (opts_.max_per_origin == 0) opts_.max_per_origin = 1;
  if (opts_.max_idle_per_origin == 0) opts_.max_idle_per_origin = opts_.max_per_origin;
}

connection_pool::~connection_pool() {
  shutdown();
}

std::size_t connection_pool::waiting_count() const noexcept {
  std::size_t n = total_waiters_.size();
  for (const auto& [origin, o] : origins_)
    n += o.waiters.size();
  return n;
}

bool connection_pool::can_open(const origin_state& o) const noexcept {
  return o.open < opts_.max_per_origin && (opts_.max_total == 0 || total_open_ < opts_.max_total);
}

connection_pool::origin_state& connection_pool::state_of(std::string_view origin) {
  auto it = origins_.find(origin);  // heterogeneous: no key string is built for a lookup
  if (it == origins_.end()) it = origins_.try_emplace(std::string(origin)).first;
  return it->second;
}

bool connection_pool::try_acquire(std::string_view origin, bool allow_idle, lease& out) {
  if (stopped_ || !allow_idle) return false;
  origin_state& o = state_of(origin);
  if (!o.shared.empty()) {
    if (auto c = take_shared(o, 0)) {
      out = lease(*this, std::move(c), true);
      return true;
    }
  }
  const auto now = clock::now();
  while (!o.idle.empty()) {
    std::shared_ptr<session> c = std::move(o.idle.back());
    o.idle.pop_back();
    --total_idle_;
    counters_.idle_connections.set(total_idle_);
    const bool fresh_enough = opts_.idle_timeout.count() == 0 || now - c->idle_since < opts_.idle_timeout;
    if (fresh_enough && c->idle_check()) {
      c->leases = 1;
      if (c->capacity() > 1) list_shared(o, c);
      out = lease(*this, std::move(c), true);
      return true;
    }
    // Expired, or the server closed it while it sat idle: drop it without ever sending on it.
    c->close(false);
    --o.open;
    --total_open_;
    counters_.open_connections.set(total_open_);
  }
  return false;
}

asio::awaitable<std::error_code> connection_pool::acquire(std::string_view origin, bool allow_idle,
                                                          clock::time_point deadline, error timeout_error,
                                                          const open_params& op, lease& out,
                                                          connect_report& report) {
  if (stopped_) co_return make_error_code(error::pool_stopped);
  if (try_acquire(origin, allow_idle, out)) co_return std::error_code{};
  origin_state& o = state_of(origin);
  // A connection being opened may carry this request too: wait for it rather than open another.
  o.may_multiplex = op.offer.may_multiplex;
  const bool behind_connect = o.may_multiplex && o.connecting > 0;
  if (o.waiters.empty() && !behind_connect) {
    if (!can_open(o) && o.open < opts_.max_per_origin) close_one_idle_elsewhere(o);
    if (can_open(o)) {
      reserve_slot(o);
      co_return co_await open_new(origin, o, op, out, report);
    }
  }

  // At a limit: wait our turn. release() and slot_freed() hand us a session, or the right to open one.
  auto w = std::make_shared<waiter>(ctx_->ex);
  w->origin = std::string(origin);
  w->min_serial = allow_idle ? 0 : opened_ + 1;
  w->on_connect = behind_connect;
  auto& queue =
      behind_connect || o.open >= opts_.max_per_origin || !o.waiters.empty() ? o.waiters : total_waiters_;
  // A retry goes ahead of first attempts (after the retries already waiting): it was refused once, and a
  // server that ends every connection after N streams would otherwise refuse it again and again.
  auto at = queue.end();
  if (w->min_serial > 0)
    at = std::find_if(queue.begin(), queue.end(), [](const auto& q) { return q->min_serial == 0; });
  queue.insert(at, w);
  w->timer.expires_at(deadline);
  std::error_code ec;
  co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (w->done) {
    if (w->ec) co_return w->ec;
    if (w->open_slot) co_return co_await open_new(origin, o, op, out, report);
    out = lease(*this, std::move(w->conn), w->reused);
    co_return std::error_code{};
  }
  for (auto* q : {&o.waiters, &total_waiters_}) {
    auto it = std::find(q->begin(), q->end(), w);
    if (it != q->end()) q->erase(it);
  }
  // An expired timer is our timeout; anything else is the caller's cancellation.
  co_return ec ? ec : make_error_code(timeout_error);
}

void connection_pool::release(std::shared_ptr<session> c) noexcept {
  auto it = origins_.find(c->origin());
  if (it == origins_.end()) {  // not ours (cannot happen): just close it
    c->close(false);
    return;
  }
  origin_state& o = it->second;
  if (c->leases > 0) --c->leases;
  if (stopped_ || !c->reusable()) {
    // Closed once its last exchange ended (a multiplexed one may still carry others).
    unlist_shared(o, *c);
    if (c->leases > 0) return;
    c->close();
    free_slot(o);
    return;
  }
  // Reusable: waiters first, in order, while it has room.
  for (auto w = o.waiters.begin(); w != o.waiters.end() && c->leases < c->capacity();) {
    if (c->serial < (*w)->min_serial) {
      // A retry wants a connection opened after it asked. While this one is in use, the first attempts
      // behind the retry may share it; once it is idle, its slot becomes the retry's new connection.
      if (c->leases > 0) {
        ++w;
        continue;
      }
      auto wp = std::move(*w);
      o.waiters.erase(w);
      unlist_shared(o, *c);
      c->close();
      ++o.connecting;
      wp->open_slot = true;
      wp->done = true;
      wp->timer.cancel();
      return;
    }
    auto wp = std::move(*w);
    w = o.waiters.erase(w);
    ++c->leases;
    give(*wp, c);
  }
  if (c->leases >= c->capacity()) {
    unlist_shared(o, *c);
    return;
  }
  if (c->leases > 0) {
    list_shared(o, c);  // room for more: the next acquire finds it
    return;
  }
  unlist_shared(o, *c);
  if (total_waiters_.empty() && o.idle.size() < opts_.max_idle_per_origin) {
    c->idle_since = clock::now();
    o.idle.push_back(std::move(c));
    ++total_idle_;
    counters_.idle_connections.set(total_idle_);
    start_sweeper();
    return;
  }
  c->close();
  free_slot(o);
}

void connection_pool::slot_freed(origin_state& o) noexcept {
  if (stopped_) return;
  serve_waiters(o);
  if (total_waiters_.empty()) return;
  auto it = origins_.find(total_waiters_.front()->origin);  // it exists: the waiter queued through it
  if (it == origins_.end() || !can_open(it->second)) return;
  auto w = std::move(total_waiters_.front());
  total_waiters_.pop_front();
  hand_new(*w, it->second);
}

void connection_pool::serve_waiters(origin_state& o) noexcept {
  while (!stopped_ && !o.waiters.empty()) {
    waiter& w = *o.waiters.front();
    if (hand_shared(o, w)) continue;                 // spare capacity on a session in use
    if (o.may_multiplex && o.connecting > 0) break;  // the connection being opened may carry it
    if (!can_open(o)) break;
    auto wp = std::move(o.waiters.front());
    o.waiters.pop_front();
    hand_new(*wp, o);
  }
  // The front may be a retry waiting for a connection newer than those listed: the first attempts behind
  // it may meanwhile share an older one that has room.
  for (auto w = o.waiters.begin(); !stopped_ && w != o.waiters.end();) {
    if ((*w)->min_serial > 0) {
      ++w;
      continue;
    }
    auto c = take_shared(o, 0);
    if (!c) return;
    auto wp = std::move(*w);
    w = o.waiters.erase(w);
    give(*wp, std::move(c));
  }
}

bool connection_pool::hand_shared(origin_state& o, waiter& w) noexcept {
  auto c = take_shared(o, w.min_serial);
  if (!c) return false;
  auto wp = std::move(o.waiters.front());  // `w` is the front waiter
  o.waiters.pop_front();
  give(w, std::move(c));
  return true;
}

void connection_pool::give(waiter& w, std::shared_ptr<session> c) noexcept {
  w.conn = std::move(c);
  w.reused = true;
  w.done = true;
  w.timer.cancel();
}

void connection_pool::hand_new(waiter& w, origin_state& o) noexcept {
  reserve_slot(o);
  w.open_slot = true;
  w.done = true;
  w.timer.cancel();
}

void connection_pool::fail_connect_waiters(origin_state& o, std::error_code ec) noexcept {
  // They waited for a connection that could not be opened: they learn why now, as they would have.
  for (auto it = o.waiters.begin(); it != o.waiters.end();) {
    if (!(*it)->on_connect) {
      ++it;
      continue;
    }
    (*it)->ec = ec;
    (*it)->done = true;
    (*it)->timer.cancel();
    it = o.waiters.erase(it);
  }
}

void connection_pool::list_shared(origin_state& o, const std::shared_ptr<session>& c) noexcept {
  if (c->shared) return;
  try {
    o.shared.push_back(c);
    c->shared = true;
  } catch (...) {
    // Out of memory: not listed, so it takes no more exchanges until its current ones end (then it is
    // idle, and found again).
  }
}

void connection_pool::unlist_shared(origin_state& o, session& c) noexcept {
  if (!c.shared) return;
  c.shared = false;
  auto it = std::find_if(o.shared.begin(), o.shared.end(), [&](const auto& p) { return p.get() == &c; });
  if (it != o.shared.end()) o.shared.erase(it);
}

std::shared_ptr<session> connection_pool::take_shared(origin_state& o, std::uint64_t min_serial) noexcept {
  // From the back (the most recently listed); unlisting index i shifts only the ones after it.
  for (std::size_t i = o.shared.size(); i-- > 0;) {
    session& c = *o.shared[i];
    if (!c.reusable() || c.leases >= c.capacity()) {  // it stopped taking more (GOAWAY, a new limit)
      unlist_shared(o, c);
      continue;
    }
    if (c.serial < min_serial) continue;  // older than the retry that asks
    std::shared_ptr<session> p = o.shared[i];
    ++c.leases;
    if (c.leases >= c.capacity()) unlist_shared(o, c);
    return p;
  }
  return nullptr;
}

bool connection_pool::close_one_idle_elsewhere(const origin_state& except) noexcept {
  // The total cap is reached but another origin has idle connections: close its least recently used one.
  origin_state* victim = nullptr;
  for (auto& [origin, o] : origins_) {
    if (&o == &except || o.idle.empty()) continue;
    if (victim == nullptr || o.idle.front()->idle_since < victim->idle.front()->idle_since) victim = &o;
  }
  if (victim == nullptr) return false;
  victim->idle.front()->close();
  victim->idle.erase(victim->idle.begin());
  --victim->open;
  --total_idle_;
  --total_open_;
  counters_.idle_connections.set(total_idle_);
  counters_.open_connections.set(total_open_);
  return true;
}

void connection_pool::start_sweeper() noexcept {
  if (sweeper_running_ || opts_.idle_timeout.count() == 0 || !background_timers_) return;
  sweeper_running_ = true;
  sweeper_.expires_after(opts_.idle_timeout);
  sweeper_.async_wait([this, life = std::weak_ptr<int>(life_)](std::error_code ec) {
    if (ec || life.expired()) return;
    sweep();
  });
}

void connection_pool::sweep() noexcept {
  sweeper_running_ = false;
  if (stopped_) return;
  const auto now = clock::now();
  for (auto& [origin, o] : origins_) {
    // idle is LIFO: the oldest connections are at the front.
    std::size_t expired = 0;
    while (expired < o.idle.size() && now - o.idle[expired]->idle_since >= opts_.idle_timeout) {
      o.idle[expired]->close();
      ++expired;
    }
    if (expired == 0) continue;
    o.idle.erase(o.idle.begin(), o.idle.begin() + static_cast<std::ptrdiff_t>(expired));
    o.open -= expired;
    total_idle_ -= expired;
    total_open_ -= expired;
  }
  counters_.idle_connections.set(total_idle_);
  counters_.open_connections.set(total_open_);
  if (total_idle_ > 0) start_sweeper();
}

void connection_pool::quiesce() noexcept {
  if (sweeper_running_) {
    sweeper_running_ = false;
    sweeper_.cancel();
  }
  for (session* c : *live_)
    c->stop_timer();
}

void connection_pool::shutdown() noexcept {
  if (stopped_) return;
  stopped_ = true;
  sweeper_running_ = false;
  sweeper_.cancel();
  for (auto& [origin, o] : origins_) {
    for (auto& c : o.idle)
      c->close();
    o.open -= o.idle.size();
    total_open_ -= o.idle.size();
    o.idle.clear();
    for (auto& c : o.shared)  // in use: cancelled below, closed when their exchanges end
      c->shared = false;
    o.shared.clear();
    for (auto& w : o.waiters) {
      w->done = true;
      w->ec = make_error_code(error::pool_stopped);
      w->timer.cancel();
    }
    o.waiters.clear();
  }
  for (auto& w : total_waiters_) {
    w->done = true;
    w->ec = make_error_code(error::pool_stopped);
    w->timer.cancel();
  }
  total_waiters_.clear();
  total_idle_ = 0;
  // In-use connections: cancel their I/O; their exchanges fail and release() closes them. Connecting
  // ones: their connect fails, and open_new() gives their slot back.
  for (session* c : *live_)
    c->cancel();
  for (link* l : connecting_)
    l->io.cancel();
  counters_.idle_connections.set(0);
  counters_.open_connections.set(total_open_);
}

}  // namespace sentinel::detail
