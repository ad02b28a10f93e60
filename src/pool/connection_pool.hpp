// sentinel: the per-client (so per-worker) connection pool. Single-threaded: no locks.
//
// origin ("scheme://host:port") -> idle sessions (a LIFO stack: the most recently used connection is the
// most likely to be alive and warm) + count of open connections (connecting ones included) + FIFO queue of
// requests waiting for one. The pool opens connections itself: it connects a link, then makes the session
// for the protocol the server chose. A waiter is handed a session (or the right to open one) directly by
// release(), so a freed connection never goes back to the idle list while somebody waits, and waiters are
// served in order. See docs/pool.md.
#pragma once

#include "session/session.hpp"
#include "transport/connect.hpp"
#include "transport/context.hpp"
#include "transport/counters.hpp"
#include "transport/link.hpp"

#include <sentinel/options.hpp>

#include <asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sentinel::detail {

/// What the pool counts: gauges of its connections (transport/counters.hpp says how counters work).
#define SENTINEL_POOL_STATS(X) \
  X(open_connections)          \
  X(idle_connections)
struct pool_counters {
  SENTINEL_POOL_STATS(SENTINEL_COUNTER_MEMBER)
  void read_into(client_stats& s) const noexcept { SENTINEL_POOL_STATS(SENTINEL_COUNTER_READ) }
};

/// How to open a new connection when acquire() needs one.
struct open_params {
  const route* rt = nullptr;  // required
  clock::duration connect_timeout{};
  clock::time_point total_deadline = clock::time_point::max();
  protocol_offer offer;  // what to offer (the same for every request of one pool key)
};

class connection_pool {
 public:
  /// `make`: what to offer when connecting, and each new connection's session (protocols/sessions.hpp).
  connection_pool(std::shared_ptr<connection_context> ctx, const connection_pool_options& opts,
                  session_factory make);
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// When on (a worker's client, whose executor runs as long as the client), the idle sweeper may keep
  /// its timer pending while nothing is in flight; otherwise idle expiry is checked at the next acquire.
  void set_background_timers(bool on) noexcept { background_timers_ = on; }

  /// A connection to use for one exchange: an idle one (`reused`), or a new, unopened one that counts
  /// against the limits already (the caller opens it). It goes back to the pool on every path: by
  /// give_back() when the exchange ends, or by the destructor when an exception (a user callback, an
  /// allocation) unwinds past it. Either way release() keeps it only if it is reusable, and a connection
  /// in the middle of an exchange never is (connection::exchange clears that first), so an unwound
  /// exchange retires its connection and frees its slot for the next request.
  class lease {
   public:
    lease() = default;
    lease(connection_pool& pool, std::shared_ptr<session> c, bool reused) noexcept
        : pool_(&pool), conn_(std::move(c)), reused_(reused) {}
    lease(lease&& o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)), conn_(std::move(o.conn_)), reused_(o.reused_) {}
    lease& operator=(lease&& o) noexcept {
      if (this != &o) {
        give_back();
        pool_ = std::exchange(o.pool_, nullptr);
        conn_ = std::move(o.conn_);
        reused_ = o.reused_;
      }
      return *this;
    }
    ~lease() { give_back(); }

    session* operator->() const noexcept { return conn_.get(); }
    session& operator*() const noexcept { return *conn_; }
    explicit operator bool() const noexcept { return conn_ != nullptr; }
    bool reused() const noexcept { return reused_; }
    /// Back to the pool now (kept idle, handed to a waiter, or closed).
    void give_back() noexcept {
      if (conn_ && pool_ != nullptr) std::exchange(pool_, nullptr)->release(std::move(conn_));
    }

   private:
    connection_pool* pool_ = nullptr;
    std::shared_ptr<session> conn_;
    bool reused_ = false;
  };

  /// Gets a session for `origin`: an idle one, else a new connection opened along `op` (transport::connect
  /// with the factory's ALPN list, then the session for the protocol chosen), else it waits, in FIFO
  /// order, while the origin (or the total) is at its limit. With `allow_idle` false, never hands out an
  /// idle session, nor one open before this call (a retry after a stale connection, or one refused by a
  /// connection going away, wants a fresh connection); such retries share the connection opened for
  /// them when it can carry several. Errors: pool_timeout when
  /// `deadline` passes while waiting (`timeout_error` names which deadline it was), operation_aborted when
  /// the caller cancels, pool_stopped after shutdown(), and connect()'s errors; `report` says whether a
  /// connection was attempted, and where one failed.
  asio::awaitable<std::error_code> acquire(std::string_view origin, bool allow_idle,
                                           clock::time_point deadline, error timeout_error,
                                           const open_params& op, lease& out, connect_report& report);
  /// An idle session, without waiting: false when there is none (or the pool is stopped); then call
  /// acquire(). The common case costs no coroutine frame.
  bool try_acquire(std::string_view origin, bool allow_idle, lease& out);

  /// Gives back a leased connection: kept idle (or handed to a waiter) when reusable, closed otherwise.
  void release(std::shared_ptr<session> c) noexcept;

  /// Closes idle connections, cancels in-use ones (their exchanges fail with operation_aborted) and
  /// fails every waiter with pool_stopped. Later acquire() calls fail with pool_stopped.
  void shutdown() noexcept;
  /// The pool's gauges (read by any thread: stats()).
  const pool_counters& counters() const noexcept { return counters_; }

  /// Stops every pending timer (idle sweeper, connection deadlines): called when the client has no
  /// exchange in flight and does not own its executor, so the user's io_context::run() can return.
  void quiesce() noexcept;

  /// Requests waiting for a connection (tests).
  std::size_t waiting_count() const noexcept;

 private:
  struct waiter;
  struct origin_state {
    std::vector<std::shared_ptr<session>> idle;    // no exchange; back = most recently used
    std::vector<std::shared_ptr<session>> shared;  // in use, with room for more exchanges (multiplexed)
    std::size_t open = 0;                          // idle + in use + being opened
    std::size_t connecting = 0;                    // being opened
    bool may_multiplex = false;                    // its requests' offer (the pool key includes it)
    std::deque<std::shared_ptr<waiter>> waiters;   // FIFO
  };

  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  origin_state& state_of(std::string_view origin);
  bool can_open(const origin_state& o) const noexcept;
  void reserve_slot(origin_state& o) noexcept;  // a connection will be opened: count it (connecting)
  void free_slot(origin_state& o) noexcept;     // one was closed, or never opened: let a waiter open one
  asio::awaitable<std::error_code> open_new(std::string_view origin, origin_state& o, const open_params& op,
                                            lease& out, connect_report& report);
  std::shared_ptr<session> adopt(std::unique_ptr<session> s);  // into the registry
  void slot_freed(origin_state& o) noexcept;                   // a connection closed, or finished connecting
  void serve_waiters(origin_state& o) noexcept;                // spare capacity, or the right to open one
  bool hand_shared(origin_state& o, waiter& w) noexcept;       // a unit of a session in use, for `w`
  static void give(waiter& w, std::shared_ptr<session> c) noexcept;  // wakes `w` with a unit of `c`
  void hand_new(waiter& w, origin_state& o) noexcept;  // the right to open a connection, for `w`
  void fail_connect_waiters(origin_state& o, std::error_code ec) noexcept;
  void list_shared(origin_state& o, const std::shared_ptr<session>& c) noexcept;  // room for more
  void unlist_shared(origin_state& o, session& c) noexcept;
  // A unit of a listed session whose serial is at least `min_serial`, or null.
  std::shared_ptr<session> take_shared(origin_state& o, std::uint64_t min_serial) noexcept;
  bool close_one_idle_elsewhere(const origin_state& except) noexcept;
  void start_sweeper() noexcept;
  void sweep() noexcept;

  std::shared_ptr<connection_context> ctx_;
  pool_counters counters_;
  connection_pool_options opts_;
  session_factory make_;
  std::unordered_map<std::string, origin_state, key_hash, std::equal_to<>> origins_;
  std::deque<std::shared_ptr<waiter>> total_waiters_;  // blocked by max_total, not by their origin
  // Every connection this pool made and that still exists (idle, in use, or closing in the background):
  // shutdown() cancels them and quiesce() stops their timers. A connection leaves it in its deleter.
  std::shared_ptr<std::unordered_set<session*>> live_ = std::make_shared<std::unordered_set<session*>>();
  std::unordered_set<link*> connecting_;  // links being connected: shutdown() cancels them
  std::size_t total_open_ = 0, total_idle_ = 0;
  std::uint64_t opened_ = 0;  // sessions made so far: each gets the next serial
  asio::steady_timer sweeper_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);  // the sweeper's handler checks it
  bool sweeper_running_ = false;
  bool background_timers_ = false;
  bool stopped_ = false;
};

}  // namespace sentinel::detail
