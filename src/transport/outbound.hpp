// sentinel: writing all of a buffer sequence to a stream, the cheapest way that stream allows, while
// watching for what the peer sends meanwhile (a connection's outbound bytes).
//
// Readiness streams (TCP, devices) try a non-blocking write first (one nearly always takes a whole
// request) and wait only for a remainder; a watched wait races writability against readability. TLS
// writes with the TLS stream's own operation, racing it against the watcher's reads (OpenSSL allows a
// read and a write in flight on one SSL object; Asio's ssl::stream one of each). What the bytes mean
// stays with the protocol, which implements response_watch.
#pragma once

#include "transport/deadlines.hpp"
#include "transport/stream.hpp"

#include <sentinel/detail/task.hpp>

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

/// The part of write_all that never waits, for callers that want no coroutine frame when one
/// non-blocking write takes everything (the usual request). True when the write is over, with its result
/// in `ec` exactly as write_all would give it; false when the rest must wait (or the stream writes only
/// through its own operation, or a watched write failed as the peer went away): `a` and `b` then hold
/// what is left, to pass to write_all with the same `watch`.
bool write_now(stream& s, const deadline_set& d, std::string_view& a, std::string_view& b,
               const response_watch* watch, std::error_code& ec);

/// write_all for a stream that writes only through its own operation (TLS), unwatched, as a task: the
/// request path's write over TLS, without an awaitable's frames. Same results as write_all.
task<std::error_code> write_whole(stream& s, const deadline_set& d, std::string_view a, std::string_view b);

}  // namespace sentinel::detail
