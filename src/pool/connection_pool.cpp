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
  bool allow_idle = true;
  bool done = false;       // set together with conn, open_slot or ec before the timer is cancelled
  bool open_slot = false;  // handed the right to open a connection (its slot is counted already)
  bool reused = false;
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

void connection_pool::reserve_slot(origin_state& o) noexcept {
  ++o.open;
  ++total_open_;
  counters_.open_connections.set(total_open_);
}

void connection_pool::free_slot(origin_state& o) noexcept {
  --o.open;
  --total_open_;
  counters_.open_connections.set(total_open_);
  slot_freed(o);
}

std::shared_ptr<session> connection_pool::adopt(std::unique_ptr<session> s) {
  // The deleter takes the session out of `live_` wherever its last owner drops it (a background TLS
  // close may outlive this pool: the registry is then gone, and the weak pointer says so). If making the
  // shared_ptr throws, it deletes the session itself.
  std::shared_ptr<session> c(s.release(),
                             [registry = std::weak_ptr<std::unordered_set<session*>>(live_)](session* p) {
                               if (auto r = registry.lock()) r->erase(p);
                               delete p;
                             });
  live_->insert(c.get());
  return c;
}

asio::awaitable<std::error_code> connection_pool::open_new(std::string_view origin, origin_state& o,
                                                           const open_params& op, lease& out,
                                                           connect_report& report) {
  // The slot is counted already: every path below gives it back unless a session takes it.
  report.attempted = true;
  std::error_code ec;
  std::shared_ptr<link> l;
  std::shared_ptr<session> s;
  try {
    l = std::make_shared<link>(ctx_->ex);
    connecting_.insert(l.get());
  } catch (...) {
    ec = make_error_code(std::errc::not_enough_memory);
  }
  if (!ec) {
    l->deadlines.set_total(op.total_deadline);
    connect_params p;
    p.connect_timeout = op.connect_timeout;
    p.session_key = origin;
    p.alpn = make_.alpn;
    p.tunnel = make_.tunnel;
    ec = co_await connect(*ctx_, *op.rt, p, l->io, l->deadlines, l, report);
    connecting_.erase(l.get());
    l->peer = report.peer;
    if (!ec && stopped_) ec = error::pool_stopped;  // shutdown() came during the connect
    if (!ec) {
      try {
        const std::string_view protocol = l->io.alpn_protocol();
        s = adopt(make_.make(std::string(origin), protocol, l));
      } catch (...) {
        ec = make_error_code(std::errc::not_enough_memory);
      }
    }
  }
  if (ec) {
    if (l) l->io.close();
    free_slot(o);
    co_return ec;
  }
  out = lease(*this, std::move(s), false);
  co_return std::error_code{};
}

connection_pool::origin_state& connection_pool::state_of(std::string_view origin) {
  auto it = origins_.find(origin);  // heterogeneous: no key string is built for a lookup
  if (it == origins_.end()) it = origins_.try_emplace(std::string(origin)).first;
  return it->second;
}

bool connection_pool::try_acquire(std::string_view origin, bool allow_idle, lease& out) {
  if (stopped_) return false;
  origin_state& o = state_of(origin);
  if (allow_idle) {
    const auto now = clock::now();
    while (!o.idle.empty()) {
      std::shared_ptr<session> c = std::move(o.idle.back());
      o.idle.pop_back();
      --total_idle_;
      counters_.idle_connections.set(total_idle_);
      const bool fresh_enough = opts_.idle_timeout.count() == 0 || now - c->idle_since < opts_.idle_timeout;
      if (fresh_enough && c->idle_check()) {
        out = lease(*this, std::move(c), true);
        return true;
      }
      // Expired, or the server closed it while it sat idle: drop it without ever sending on it.
      c->close(false);
      --o.open;
      --total_open_;
      counters_.open_connections.set(total_open_);
    }
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
  if (o.waiters.empty()) {
    if (!can_open(o) && o.open < opts_.max_per_origin) close_one_idle_elsewhere(o);
    if (can_open(o)) {
      reserve_slot(o);
      co_return co_await open_new(origin, o, op, out, report);
    }
  }

  // At a limit: wait our turn. release() and slot_freed() hand us a session, or the right to open one.
  auto w = std::make_shared<waiter>(ctx_->ex);
  w->origin = std::string(origin);
  w->allow_idle = allow_idle;
  auto& queue = o.open >= opts_.max_per_origin || !o.waiters.empty() ? o.waiters : total_waiters_;
  queue.push_back(w);
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
  if (!stopped_ && c->reusable()) {
    if (!o.waiters.empty()) {
      auto w = std::move(o.waiters.front());
      o.waiters.pop_front();
      w->done = true;
      if (w->allow_idle) {
        w->conn = std::move(c);
        w->reused = true;
      } else {
        // It wants a fresh connection (a retry): this connection's slot becomes that one.
        c->close();
        w->open_slot = true;
      }
      w->timer.cancel();
      return;
    }
    if (total_waiters_.empty() && o.idle.size() < opts_.max_idle_per_origin) {
      c->idle_since = clock::now();
      o.idle.push_back(std::move(c));
      ++total_idle_;
      counters_.idle_connections.set(total_idle_);
      start_sweeper();
      return;
    }
  }
  c->close();
  --o.open;
  --total_open_;
  counters_.open_connections.set(total_open_);
  slot_freed(o);
}

void connection_pool::slot_freed(origin_state& o) noexcept {
  if (stopped_) return;
  if (!o.waiters.empty() && can_open(o)) {
    auto w = std::move(o.waiters.front());
    o.waiters.pop_front();
    hand_new(*w, o);
    return;
  }
  if (total_waiters_.empty()) return;
  auto it = origins_.find(total_waiters_.front()->origin);  // it exists: the waiter queued through it
  if (it == origins_.end() || !can_open(it->second)) return;
  auto w = std::move(total_waiters_.front());
  total_waiters_.pop_front();
  hand_new(*w, it->second);
}

void connection_pool::hand_new(waiter& w, origin_state& o) noexcept {
  reserve_slot(o);
  w.open_slot = true;
  w.done = true;
  w.timer.cancel();
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
