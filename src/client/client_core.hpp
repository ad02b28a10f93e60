// sentinel: the state of one http_client, shared by its connections and in-flight exchanges.
//
// Held by shared_ptr: an exchange coroutine keeps the core alive while it runs, so destroying the
// http_client (which shuts the core down: connections closed, waiters failed) never leaves a coroutine
// pointing at freed memory.
#pragma once

#include "client/counters.hpp"
#include "client/owner_check.hpp"
#include "client/proxy.hpp"
#include "pool/connection_pool.hpp"
#include "transport/context.hpp"

#include <sentinel/detail/outcome.hpp>
#include <sentinel/options.hpp>
#include <sentinel/request.hpp>
#include <sentinel/response.hpp>
#include <sentinel/stats.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <memory>
#include <optional>

namespace sentinel::detail {

class client_core : public std::enable_shared_from_this<client_core> {
 public:
  client_core(asio::any_io_executor ex, client_options opts);
  ~client_core();

  /// One whole request: redirects, the stale-connection retry, deadlines. Runs on `ex`; never throws
  /// except std::bad_alloc. Sends `req` and returns the response.
  task<outcome> exchange(std::shared_ptr<client_core> self, request req);
  /// The same for the caller's request and response: sends `*into.req` (never changed) and fills
  /// `*into.res`; no response of its own to hand back.
  task<std::error_code> exchange_into(std::shared_ptr<client_core> self, exchange_target into);

  /// Closes everything; later exchanges fail with pool_stopped.
  void shutdown() noexcept;

  /// An exchange began / ended (on every path: see active_exchange in http_client.cpp).
  void exchange_started() noexcept;
  void exchange_finished() noexcept;

  tls_context& tls() { return conns->tls(); }
  /// True when the client owns its executor's lifetime (a worker's client): background timers (idle
  /// sweeper, lazy deadline timers) may then stay pending while nothing is in flight.
  bool background_timers() const noexcept { return background_timers_; }
  void set_background_timers(bool on) noexcept {
    background_timers_ = on;
    pool.set_background_timers(on);
  }
  bool stopped() const noexcept { return stopped_; }
  client_stats stats() const noexcept { return snapshot(counters, pool.counters(), conns->counters); }

  asio::any_io_executor ex;
  client_options opts;
  owner_check owner;
  std::shared_ptr<connection_context> conns;  // what the connections share (executor, DNS, TLS, buffer)
  exchange_counters counters;                 // the pool and the transport count their own
  proxy_config proxies;
  connection_pool pool;

 private:
  /// Both of the above (Result: outcome or std::error_code), one coroutine each (exchange.cpp).
  template <class Result>
  task<Result> run(std::shared_ptr<client_core> self, std::optional<request> owned, exchange_target into);
  /// One request without redirects (retried as docs/retry.md says) into `res`.
  task<std::error_code> send_once(const request& req, clock::time_point total_deadline, bool follow,
                                  transfer_info& info, response& res);
  /// The result as the caller gets it: on error an empty response (but a callback's exception and the
  /// failure), else the transfer info and the final URL (moved from `own`, the exchange's own copy of
  /// `req`, when there is one); and the counters.
  void finish(std::error_code& ec, const request& req, request* own, response& res, transfer_info& info,
              clock::time_point start);

  std::size_t active_ = 0;  // exchanges in flight
  bool stopped_ = false;
  bool background_timers_ = false;
};

}  // namespace sentinel::detail
