// sentinel: a session: one connection's protocol, as the pool holds it and the client sends through it.
//
// A session carries exchanges on one connected stream: HTTP/1 one at a time, HTTP/2 up to the peer's
// concurrent-stream limit. The pool asks it how many it can carry and whether it is still usable; the
// client prepares a request on it, opens it when it is new, and runs the exchange, without naming its
// protocol. Protocols implement it (http1::connection); protocols/sessions.hpp makes them.
//
// Not thread-safe: a session belongs to its client's thread.
#pragma once

#include "session/exchange.hpp"
#include "transport/connect.hpp"

#include <sentinel/response.hpp>

#include <asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

namespace sentinel::detail {

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(std::string origin) : origin_(std::move(origin)) {}
  virtual ~session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// The pool key of the connection ("scheme://host:port", or the proxy's).
  const std::string& origin() const noexcept { return origin_; }

  // --- capacity (the pool's questions) ---------------------------------------------------------------
  /// Exchanges it can carry at once.
  virtual std::size_t capacity() const noexcept = 0;
  /// Exchanges it carries now.
  virtual std::size_t active() const noexcept = 0;
  /// True when it may carry another exchange once the current ones allow (the last response was complete
  /// and allowed it, the stream is open).
  virtual bool reusable() const noexcept = 0;
  /// For an idle session: a cheap check that it is still usable (the protocol decides what an idle
  /// connection may show: HTTP/1 none at all).
  virtual bool idle_check() noexcept = 0;

  // --- use (the client's) ------------------------------------------------------------------------------
  /// Opens the connection along `r` (transport::connect): each address within `connect_timeout`, then
  /// the tunnel and TLS in what is left of it. On failure `report` says where.
  virtual asio::awaitable<std::error_code> open(const route& r, clock::duration connect_timeout,
                                                clock::time_point total_deadline, connect_report& report) = 0;
  /// Checks and encodes the request's head for the next exchange(): an error (a field the protocol
  /// cannot carry) means nothing was sent and the session stays usable.
  virtual std::error_code prepare(const exchange_request& req) = 0;
  /// Sends the prepared request with `body` and reads one complete response into `res`.
  virtual asio::awaitable<exchange_outcome> exchange(const outgoing_body& body, const exchange_params& params,
                                                     response& res) = 0;
  /// The address connected to (unset over a device).
  virtual tcp::endpoint peer() const noexcept = 0;

  // --- ending ----------------------------------------------------------------------------------------------
  /// Closes now; `graceful`: with the protocol's and the stream's goodbyes (bounded, in the background).
  virtual void close(bool graceful = true) noexcept = 0;
  /// Cancels pending I/O (its exchanges fail with operation_aborted) without closing.
  virtual void cancel() noexcept = 0;
  /// Cancels pending timers, so an idle client leaves no work on its executor.
  virtual void stop_timer() noexcept = 0;

  // Pool bookkeeping (owned by the pool).
  clock::time_point idle_since{};

 private:
  std::string origin_;
};

/// Makes an unopened session for an origin (the pool's only way to make one).
using session_factory = std::function<std::unique_ptr<session>(const std::string& origin)>;

}  // namespace sentinel::detail
