// sentinel: a session: one connection's protocol, as the pool holds it and the client sends through it.
//
// A session carries exchanges on one connected stream (a link): HTTP/1 one at a time, HTTP/2 up to the
// peer's concurrent-stream limit. The pool connects the link, makes the session for the protocol the
// server chose (through the session_factory it is given), and asks it how many exchanges it can carry and
// whether it is still usable; the client prepares a request on it and runs the exchange, without naming
// its protocol. Protocols implement it (http1::connection); protocols/sessions.hpp makes them.
//
// Not thread-safe: a session belongs to its client's thread.
#pragma once

#include "session/exchange.hpp"
#include "transport/connect.hpp"
#include "transport/link.hpp"

#include <sentinel/detail/task.hpp>
#include <sentinel/response.hpp>

#include <asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
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
  /// Checks and encodes the request's head for the next exchange(): an error (a field the protocol
  /// cannot carry) means nothing was sent and the session stays usable.
  virtual std::error_code prepare(const exchange_request& req) = 0;
  /// Sends the prepared request with `body` and reads one complete response into `res`.
  virtual task<exchange_outcome> exchange(const outgoing_body& body, const exchange_params& params,
                                          response& res) = 0;
  /// The address connected to (unset over a device).
  virtual tcp::endpoint peer() const noexcept = 0;
  /// The protocol the TLS handshake chose by ALPN, as one of the offered names in static storage ("h2",
  /// "http/1.1"); empty over plain TCP or when the server chose none.
  virtual std::string_view alpn() const noexcept = 0;

  // --- ending ----------------------------------------------------------------------------------------------
  /// Closes now; `graceful`: with the protocol's and the stream's goodbyes (bounded, in the background).
  virtual void close(bool graceful = true) noexcept = 0;
  /// Cancels pending I/O (its exchanges fail with operation_aborted) without closing.
  virtual void cancel() noexcept = 0;
  /// Cancels pending timers, so an idle client leaves no work on its executor.
  virtual void stop_timer() noexcept = 0;

  // Pool bookkeeping (owned by the pool).
  clock::time_point idle_since{};
  std::size_t leases = 0;    // units of capacity handed out (leases alive)
  bool shared = false;       // in its origin's list of sessions in use with room for more
  std::uint64_t serial = 0;  // order of making, in its pool: a retry uses only sessions newer than it

 private:
  std::string origin_;
};

/// `chosen` (an ALPN result, valid only while its TLS stream lives) as a name in static storage: the
/// protocols any connection may offer, or "" for anything else.
constexpr std::string_view stable_alpn(std::string_view chosen) noexcept {
  if (chosen == "h2") return "h2";
  if (chosen == "http/1.1") return "http/1.1";
  return {};
}

/// What a connection offers and assumes (protocols/sessions.hpp works it out from a request's options).
struct protocol_offer {
  std::span<const std::string_view> alpn;  // offered in the TLS handshake, in preference order
  std::string_view assumed = "http/1.1";   // spoken when nothing was negotiated (no TLS, or no ALPN)
  /// True when a protocol it may speak carries several exchanges on one connection: requests that find
  /// a connection being opened for their origin then wait for it rather than open another.
  bool may_multiplex = false;
};

/// How the pool makes sessions.
struct session_factory {
  tunnel_fn tunnel = nullptr;  // opens a CONNECT tunnel through an HTTP proxy
  /// The session for a link connected to `origin`, speaking `protocol` (the ALPN result, or the offer's
  /// assumed protocol when none was chosen). connect() lets through only protocols that were offered.
  std::function<std::unique_ptr<session>(const std::string& origin, std::string_view protocol,
                                         std::shared_ptr<link> l)>
      make;
};

}  // namespace sentinel::detail
