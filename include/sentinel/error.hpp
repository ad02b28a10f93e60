// sentinel: the library's error codes and the conditions users test them against.
#pragma once

#include <sentinel/config.hpp>

#include <system_error>
#include <type_traits>

namespace sentinel {

/// Errors reported by sentinel itself. Asio's and OpenSSL's codes pass through unchanged.
///
/// The numeric values are stable within a major version. Message texts are for humans and unspecified:
/// compare codes (or `condition`s), never messages.
enum class error {
  // --- usage -----------------------------------------------------------------------------------------
  invalid_url = 1,      ///< The URL is not an absolute http:// or https:// URL (or has bad characters).
  unsupported_scheme,   ///< The URL's scheme is neither http nor https.
  invalid_request,      ///< Method, target or a header contains CR, LF, NUL or other illegal bytes.
  pool_stopped,         ///< The client_pool (or the worker the task was sent to) has been stopped.
  aborted_by_callback,  ///< A request's on_head or on_body callback returned false.

  // --- protocol: the peer sent something that is not HTTP/1.x --------------------------------------------
  bad_status_line,               ///< The status line is malformed (version, code or reason).
  bad_header,                    ///< A header line is malformed (no colon, bad name, obs-fold, bad bytes).
  bad_content_length,            ///< Content-Length is not a decimal number, or overflows.
  multiple_content_length,       ///< Several Content-Length values that disagree.
  bad_transfer_encoding,         ///< Transfer-Encoding lists a coding after chunked, or one we cannot frame.
  bad_chunk,                     ///< A chunk-size line, chunk extension or chunk-data line end is malformed.
  unexpected_eof,                ///< The connection closed in the middle of a response (a truncated body).
  empty_reply,                   ///< The connection closed before any byte of the response arrived.
  unexpected_response,           ///< A 101 Switching Protocols for a request without an Upgrade field.
  bad_redirect,                  ///< A 3xx response's Location is missing or not a valid URL.
  bad_content_encoding,          ///< The compressed body is corrupt.
  unsupported_content_encoding,  ///< The body is encoded with a coding the client cannot decode.

  // --- limits: the peer sent more than the client allows (each names its client_options limit) --------
  header_too_large,     ///< Status line plus header block exceeds `limits.max_head_bytes`.
  too_many_headers,     ///< More than `limits.max_header_count` header fields.
  body_too_large,       ///< The body exceeds `limits.max_body_bytes`.
  chunk_line_too_long,  ///< A chunk-size line (with extensions) exceeds `limits.max_chunk_line_bytes`.
  too_many_redirects,   ///< More than `redirect.max_redirects` redirects were followed.
  decoded_too_large,    ///< The decoded body exceeds `limits.max_decoded_bytes` (a decompression bomb).

  // --- timeouts (each names its client_options timeout) --------------------------------------------------
  pool_timeout,      ///< No connection to the origin became free within `timeouts.pool_acquire`.
  resolve_timeout,   ///< Name resolution did not finish within `timeouts.connect`.
  connect_timeout,   ///< TCP connect (and TLS handshake) did not finish within `timeouts.connect`.
  response_timeout,  ///< The response head did not arrive within `timeouts.response_head`.
  idle_timeout,      ///< No byte was received for `timeouts.idle_read` while reading.
  request_timeout,   ///< The whole exchange did not finish within `timeouts.total`.

  // --- TLS ---------------------------------------------------------------------------------------------
  tls_handshake_failed,       ///< The TLS handshake failed for a reason other than certificate checks.
  certificate_expired,        ///< The peer's certificate (or one in its chain) has expired.
  certificate_not_yet_valid,  ///< The peer's certificate is not valid yet.
  certificate_untrusted,      ///< The chain does not lead to a trusted CA (unknown issuer).
  certificate_self_signed,    ///< The peer presented a self-signed certificate that is not trusted.
  certificate_host_mismatch,  ///< The certificate does not name the host (or IP address) we connected to.
  certificate_invalid,        ///< Any other certificate verification failure.

  // --- proxies -----------------------------------------------------------------------------------------
  proxy_error,  ///< The proxy refused the CONNECT tunnel or answered with a non-2xx status.

  // --- internal ----------------------------------------------------------------------------------------
  internal,  ///< A broken invariant or an exception escaped a worker task (a bug; logged).

  // --- appended after 0.1.0 (numeric values above stay as they were) -----------------------------------
  /// A user callback of the request (on_head, on_body, a body source) threw. The exception is in the
  /// response's `info().callback_exception`; http_client::send()/get()/... rethrow it as it was thrown.
  /// The connection it happened on is closed, never reused.
  callback_threw,
  /// One line of the head (the status line or a field line, obs-fold lines counted one by one) or of the
  /// trailer block exceeds `limits.max_header_line_bytes`, its line end included. (A limit; appended here
  /// so that no existing value moves.)
  header_line_too_long,
  /// The server chose an application protocol (ALPN) that the client did not offer. (TLS; appended here so
  /// that no existing value moves.)
  alpn_mismatch,
  /// An HTTP/2 response carried more DATA than its content-length declared (RFC 9113 §8.1.1: malformed).
  /// (A protocol error; appended here so that no existing value moves.)
  body_length_mismatch,
  /// The server refused the request without processing it (HTTP/2: a stream reset with REFUSED_STREAM, or
  /// above a GOAWAY's last stream id), as often as `retry.max_refused` allowed sending it again.
  /// (Appended here so that no existing value moves.)
  stream_refused,
  /// The server reset the HTTP/2 stream (RST_STREAM) with an error code other than NO_ERROR or
  /// REFUSED_STREAM; the response's `info().failure.http2_error` holds the code. (Appended here so that no
  /// existing value moves.)
  stream_reset,
  /// An HTTP/2 server sent frames that carry nothing for the exchanges (PING, SETTINGS, PRIORITY, GOAWAY,
  /// empty DATA, resets or heads of streams whose exchange is gone) faster than the client allows: a flood
  /// (CVE-2019-9512, -9515, -9518). The connection is closed; see docs/limits.md. (A limit; appended here so
  /// that no existing value moves.)
  frame_flood,
  /// The HTTP/2 server broke the protocol in a way that ends the whole connection (a connection error,
  /// RFC 9113 §5.4.1: a frame of the wrong size, a flow-control window pushed past 2^31 - 1, a
  /// PUSH_PROMISE although push is off, ...). The client sent GOAWAY with the error code that
  /// `info().failure.http2_error` holds, and closed the connection. (A protocol error; appended here so
  /// that no existing value moves.)
  http2_protocol_error,
};

/// Broad classes of failure. Compare an error_code against one of these (`ec == condition::timeout`)
/// instead of listing codes: sentinel's own codes and the matching Asio/system codes are equivalent.
enum class condition {
  timeout = 1,      ///< Any of sentinel's timeouts, and asio::error::timed_out.
  connection_lost,  ///< The peer closed or reset the connection (EOF, ECONNRESET, EPIPE, truncation).
  connect_failed,   ///< The TCP connection could not be made (refused, unreachable, not found).
  protocol,         ///< The peer's bytes are not valid HTTP/1.x.
  limit_exceeded,   ///< A configured limit was hit (sizes, counts, redirects).
  tls,              ///< TLS handshake or certificate verification failed.
  cancelled,        ///< The operation was cancelled (asio::error::operation_aborted).
  usage,            ///< The request or URL was invalid, or the pool was stopped.
};

/// The category of sentinel::error. Its name is "sentinel".
const std::error_category& error_category() noexcept;
/// The category of sentinel::condition. Its name is "sentinel.condition".
const std::error_category& condition_category() noexcept;

/// Makes an error_code in sentinel's category (found by ADL; enables `std::error_code ec = error::...`).
inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}
/// Makes an error_condition in sentinel's condition category.
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

/// Short stable name of a sentinel error ("header_too_large"), for logs and machine-readable output.
const char* to_string(error e) noexcept;

}  // namespace sentinel

template <>
struct std::is_error_code_enum<sentinel::error> : std::true_type {};
template <>
struct std::is_error_condition_enum<sentinel::condition> : std::true_type {};
