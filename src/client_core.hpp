// sentinel: the state of one http_client, shared by its connections and in-flight exchanges.
//
// Held by shared_ptr: an exchange coroutine keeps the core alive while it runs, so destroying the
// http_client (which shuts the core down: connections closed, waiters failed) never leaves a coroutine
// pointing at freed memory.
#pragma once

#include "connection_pool.hpp"
#include "owner_check.hpp"
#include "proxy.hpp"
#include "transport.hpp"

#include <sentinel/detail/outcome.hpp>
#include <sentinel/options.hpp>
#include <sentinel/request.hpp>
#include <sentinel/response.hpp>
#include <sentinel/stats.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <atomic>
#include <memory>

namespace sentinel::detail {

/// A counter written by one thread and read by any: relaxed load+store, no locked instruction.
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

struct client_counters {
  counter requests, errors, timeouts, retries, redirects, connections_opened, connections_reused,
      tls_handshakes, tls_resumed, bytes_sent, bytes_received, open_connections, idle_connections;
  client_stats snapshot() const noexcept;
};

class client_core : public std::enable_shared_from_this<client_core> {
 public:
  client_core(asio::any_io_executor ex, client_options opts);
  ~client_core();

  /// One whole request: redirects, the stale-connection retry, deadlines. Runs on `ex`; never throws
  /// except std::bad_alloc.
  asio::awaitable<outcome> exchange(std::shared_ptr<client_core> self, request req);

  /// Closes everything; later exchanges fail with pool_stopped.
  void shutdown() noexcept;

  /// An exchange began / ended (on every path: see active_exchange in http_client.cpp).
  void exchange_started() noexcept;
  void exchange_finished() noexcept;

  tls_context& tls();
  /// True when the client owns its executor's lifetime (a worker's client): background timers (idle
  /// sweeper, lazy deadline timers) may then stay pending while nothing is in flight.
  bool background_timers() const noexcept { return background_timers_; }
  void set_background_timers(bool on) noexcept { background_timers_ = on; }
  bool stopped() const noexcept { return stopped_; }
  /// The shared read buffer of plain-TCP connections (see connection.hpp).
  char* read_buffer() noexcept { return rbuf_.get(); }
  std::size_t read_buffer_size() const noexcept { return rbuf_cap_; }

  asio::any_io_executor ex;
  client_options opts;
  owner_check owner;
  dns_cache dns;
  client_counters counters;
  proxy_config proxies;
  connection_pool pool;

 private:
  asio::awaitable<outcome> send_once(request& req, clock::time_point total_deadline, bool follow,
                                     transfer_info& info);

  std::unique_ptr<tls_context> tls_;
  std::unique_ptr<char[]> rbuf_;
  std::size_t rbuf_cap_ = 0;
  std::size_t active_ = 0;  // exchanges in flight
  bool stopped_ = false;
  bool background_timers_ = false;
};

}  // namespace sentinel::detail
