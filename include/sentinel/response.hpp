// sentinel: an HTTP response as a value.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/headers.hpp>
#include <sentinel/url.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel {

/// What an operation was doing when it failed (transfer_info::failure).
enum class phase : std::uint8_t {
  none = 0,  ///< Nothing failed, or it failed before it began (a bad request or URL, a stopped pool).
  queue,     ///< Waiting for a connection to the origin (pool_timeout).
  resolve,   ///< Looking up the host name (the proxy's, through a proxy).
  connect,   ///< The TCP connection to an address.
  proxy,     ///< The CONNECT tunnel through an HTTP proxy.
  tls,       ///< The TLS handshake.
  send,      ///< Writing the request (its body source included).
  receive,   ///< Reading the response (its on_head and on_body callbacks included).
  redirect,  ///< Following a redirect (too many of them, or a Location that is not a URL).
};

/// The phase's name: "resolve", "connect", ... ("" for none).
const char* to_string(phase p) noexcept;

/// Where a failed operation failed. Filled in only when it completes with an error.
struct failure_info {
  sentinel::phase phase = phase::none;
  std::string method;    ///< The method of the request that failed (a redirect may have changed it).
  std::string url;       ///< Its URL (after redirects) without user info and fragment: url::redacted().
  std::string endpoint;  ///< What the phase talked to: "host:port" (queue, resolve), else "address:port".
  /// HTTP/2: the error code (RFC 9113 §7) of the RST_STREAM that ended the exchange (error::stream_reset),
  /// or of the GOAWAY before the connection ended under it (the server's, or the client's own when the server
  /// broke the protocol: error::http2_protocol_error); 0 otherwise (NO_ERROR included). describe() names
  /// it: `receive from 127.0.0.1:443 (HTTP/2 INTERNAL_ERROR)`.
  std::uint32_t http2_error = 0;
};

/// One line for people: `GET http://127.0.0.1:1/: connect to 127.0.0.1:1: Connection refused` (the
/// parts that are unknown are left out). request_error::what() is this line.
std::string describe(const std::error_code& ec, const failure_info& where);
/// The same without the error's message: `GET http://127.0.0.1:1/: connect to 127.0.0.1:1`.
std::string describe(const failure_info& where);

/// How a response was obtained: useful for logs, tests and `-w` style reporting.
struct transfer_info {
  std::size_t redirects = 0;       ///< Redirects followed to reach this response.
  std::size_t retries = 0;         ///< Silent retries: a stale pooled connection died, or a refusal.
  std::size_t connects = 0;        ///< New connections opened for this exchange (redirects included).
  bool reused_connection = false;  ///< The final response came over a pooled (reused) connection.
  /// The protocol the final response's connection chose by ALPN in its TLS handshake ("h2" or
  /// "http/1.1", static storage); empty over plain TCP, by prior knowledge, or when the server chose none.
  std::string_view alpn;
  std::size_t bytes_received = 0;       ///< Bytes read from the socket for the final response (head + body).
  std::chrono::nanoseconds elapsed{0};  ///< From send to the last body byte, redirects included.
  /// Set only when the operation failed with error::callback_threw: what the request's on_head, on_body
  /// or body source threw, exactly as thrown (rethrow it with std::rethrow_exception).
  std::exception_ptr callback_exception;
  /// Set only when the operation failed: the request, the phase and the endpoint (see describe()).
  failure_info failure;
};

/// A complete HTTP response. An HTTP status is data, not an error: a 404 or 500 completes successfully.
///
/// It owns its bytes (nothing points into connection buffers). 1xx interim responses are skipped and
/// never surface. `body()` is the body after transfer decoding (chunked framing removed) and, when
/// decompression is enabled, after content decoding.
/// @par Thread safety  A value type: distinct objects are independent; const access is safe concurrently.
class response {
 public:
  response() = default;

  /// The status code (100..999).
  int status() const noexcept { return status_; }
  void set_status(int s) noexcept { status_ = s; }
  /// True for 2xx.
  bool ok() const noexcept { return status_ >= 200 && status_ < 300; }
  /// The reason phrase as received (may be empty).
  std::string_view reason() const noexcept { return reason_; }
  void set_reason(std::string_view r) { reason_ = r; }
  /// HTTP version: 10 for HTTP/1.0, 11 for HTTP/1.1, 20 for HTTP/2.
  int version() const noexcept { return version_; }
  void set_version(int v) noexcept { version_ = v; }

  sentinel::headers& headers() noexcept { return headers_; }
  const sentinel::headers& headers() const noexcept { return headers_; }
  /// Trailer fields of a chunked body (empty otherwise).
  sentinel::headers& trailers() noexcept { return trailers_; }
  const sentinel::headers& trailers() const noexcept { return trailers_; }

  std::string& body() noexcept { return body_; }
  const std::string& body() const noexcept { return body_; }

  /// The URL this response came from: the request's URL, or the last redirect target.
  const sentinel::url& url() const noexcept { return url_; }
  void set_url(const sentinel::url& u) { url_ = u; }  // (copy-assigned: the storage it had is reused)
  void set_url(sentinel::url&& u) noexcept { url_ = std::move(u); }

  transfer_info& info() noexcept { return info_; }
  const transfer_info& info() const noexcept { return info_; }

  /// Empties the response and keeps its storage for reuse.
  void clear() noexcept;

 private:
  int status_ = 0;
  int version_ = 11;
  std::string reason_;
  sentinel::headers headers_;
  sentinel::headers trailers_;
  std::string body_;
  sentinel::url url_;
  transfer_info info_;
};

}  // namespace sentinel
