// sentinel: writing a request: the head (with an in-memory body in the same write), and file or source
// bodies in blocks, framed as chunks when their length is unknown.
#pragma once

#include "http1/exchange_types.hpp"
#include "transport/counters.hpp"
#include "transport/deadlines.hpp"
#include "transport/stream.hpp"

#include <asio/awaitable.hpp>

#include <string_view>
#include <system_error>

namespace sentinel::detail {

/// Watches for the response while the request is still being written (RFC 9112 §9.5: a client sending a
/// body should monitor the connection for an error response and stop sending when it arrives). Servers
/// such as Node's and Go's answer 413 or 405 early and close without reading the rest of an upload.
class response_watch {
 public:
  /// The stream is readable while a write waits: read and parse what is there. True once a complete
  /// final response has arrived (the writer then stops sending).
  virtual asio::awaitable<bool> on_readable() = 0;
  /// A write failed (the peer closed or reset): read what the peer sent before that. True when it was a
  /// complete final response, which then stands instead of the write's error.
  virtual asio::awaitable<bool> after_write_error() = 0;
  /// For streams that read into a buffer of their own (TLS), where readiness says nothing: reads and
  /// parses while a write is in flight, until a complete final response arrived (responded()) or parsing
  /// it failed; on EOF or a reset it waits to be cancelled, so that the write's own result stands.
  /// Returns when cancelled (the write finished first).
  virtual asio::awaitable<void> read_until_answered() = 0;
  /// True once a complete response was read this way.
  bool responded() const noexcept { return responded_; }

 protected:
  ~response_watch() = default;
  bool responded_ = false;
};

/// Writes `a` then `b` (either may be empty) completely. One non-blocking write nearly always takes a
/// whole request; only a remainder waits. A deadline that passed shows as its own error. With `watch`
/// a write that waits also waits for the response (readiness streams), or reads it while the write is in
/// flight (TLS), and a complete response (watch->responded()) ends the write early without error.
asio::awaitable<std::error_code> write_all(stream& s, const deadline_set& d, std::string_view a,
                                           std::string_view b, response_watch* watch = nullptr);

/// Sends a file or source body (or an in-memory one held back for 100 Continue), counting bytes_sent.
/// A source that produces more or fewer bytes than it announced, or a file that shrinks, fails with
/// invalid_request; a source that throws fails with callback_threw (its exception in *body.thrown).
/// `watch` as for write_all: sending stops without error once the response is complete.
asio::awaitable<std::error_code> send_body(stream& s, const deadline_set& d, transport_counters& counters,
                                           const outgoing_body& body, response_watch* watch = nullptr);

}  // namespace sentinel::detail
