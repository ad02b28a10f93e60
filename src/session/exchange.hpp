// sentinel: what an exchange on a session is given and what it reports, in no protocol's terms: the
// request's head and the fields the client adds, the response consumer, the exchange parameters, the
// outgoing body, and the outcome the retry rule reads. Each protocol maps these to its own wire form.
#pragma once

#include <sentinel/headers.hpp>
#include <sentinel/request.hpp>
#include <sentinel/response.hpp>
#include <sentinel/url.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <system_error>

namespace sentinel::detail {

using clock = std::chrono::steady_clock;

/// Receives a response while it is parsed: the head once, then the body (transfer coding removed) in
/// pieces, then the end. Any error it returns ends the exchange (and retires the connection).
class response_consumer {
 public:
  /// `res` holds status, reason, version and header fields.
  virtual std::error_code on_head(response& res) = 0;
  virtual std::error_code on_body(std::string_view data) = 0;
  /// The whole response arrived; `res` now holds the trailers too.
  virtual std::error_code on_end(response& res) = 0;

 protected:
  ~response_consumer() = default;
};

/// What a request method means for the response: HEAD's has no body; CONNECT's 2xx opens a tunnel.
enum class method_kind { normal, head, connect };

/// What the client adds to a request's head, beyond its method, target and fields.
struct request_extras {
  std::string_view user_agent;           // added unless the request has User-Agent; empty: none
  std::string_view accept_encoding;      // added unless the request has Accept-Encoding; empty: none
  bool forward_proxy = false;            // sent to an HTTP forward proxy (the target in absolute form)
  std::string_view proxy_authorization;  // added as Proxy-Authorization when not empty
  /// The body is not the request's in-memory one: it has this many bytes (a file, a source of known
  /// length).
  std::optional<std::uint64_t> body_length;
  /// The body's length is unknown until it ends (a source without one).
  bool length_unknown = false;
  /// Ask for 100 Continue before the body.
  bool expect_continue = false;
};

/// A request's head as a session gets it. Views: the request they come from outlives the exchange.
struct exchange_request {
  std::string_view method;
  const url& target;
  const headers& fields;
  std::uint64_t body_size = 0;  // the in-memory body's size (extras.body_length wins when set)
  const request_extras& extras;
};

/// What the client asks of one exchange on a session.
struct exchange_params {
  response_consumer* consumer = nullptr;  // required
  method_kind kind = method_kind::normal;
  clock::time_point total_deadline = clock::time_point::max();
  clock::duration response_head_timeout{};  // zero: off
  clock::duration idle_read_timeout{};      // zero: off
  std::uint64_t max_body_bytes = 0;         // zero: unlimited
  clock::duration ping_timeout{};           // HTTP/2's health check before reuse (timeouts.connect); 0: off
};

/// A request body as the connection sends it.
struct outgoing_body {
  std::string_view data;  // in memory: goes out in the same write as the head
  int fd = -1;            // a file: `length` bytes from offset 0 (owned by the caller)
  const request::body_source_fn* source = nullptr;  // produced while sending
  std::optional<std::uint64_t> length;              // file size, or a source's announced length
  bool chunked = false;                             // a source of unknown length: chunked transfer coding
  bool expect_continue = false;                     // hold the body until 100 Continue (or continue_timeout)
  clock::duration continue_timeout{};
  std::exception_ptr* thrown = nullptr;  // where a throwing source's exception goes (error::callback_threw)
  bool in_memory() const noexcept { return fd < 0 && source == nullptr; }
  bool empty() const noexcept { return in_memory() && data.empty(); }
};

/// How an exchange ended, beyond its error code: what the retry rule needs to know.
struct exchange_outcome {
  std::error_code ec;
  std::size_t bytes_received = 0;  // response bytes read (0: the peer never answered)
  bool request_written = false;    // the whole request went out
  bool failed_sending = false;     // the error came from writing the request (else from reading)
  /// The protocol proves the server did not process the request, so sending it again is safe for a
  /// method that may be retried (HTTP/1: a reused connection that failed before any response byte).
  bool not_processed = false;
  /// More than that: the server said so (HTTP/2: REFUSED_STREAM, or a stream above a GOAWAY's last stream
  /// id; RFC 9113 §8.7), so sending it again is safe for any method.
  bool refused = false;
  std::uint32_t http2_error = 0;  // HTTP/2: the RST_STREAM (or error GOAWAY) code that ended it
};

}  // namespace sentinel::detail
