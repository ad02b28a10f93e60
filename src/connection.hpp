// sentinel: one HTTP/1.1 connection: a stream, its parser, one exchange at a time.
//
// Reading: a plain-TCP connection owns no read buffer while it waits. It waits for readability, then
// reads (non-blocking) into its client's shared buffer, parses in place and copies what the response
// keeps; only bytes of an unfinished token (half a head, half a chunk-size line) are kept per connection,
// in `spill_`. That is what keeps 10,000 busy connections cheap (see docs/architecture.md, "Memory").
// TLS connections read through OpenSSL into a buffer of their own, since OpenSSL buffers internally.
//
// Deadlines: one steady_timer per connection, armed lazily. Moving a deadline later never touches the
// timer; the timer fires at the old time, sees nothing expired, and re-arms for the new earliest deadline.
// So steady-state requests cost no timer operations at all. When a deadline passes, the timer records
// which one (`fired_`) and cancels the socket's pending operation; the exchange turns the resulting
// operation_aborted into that deadline's error and the connection is retired.
#pragma once

#include "http1/parser.hpp"
#include "transport.hpp"

#include <sentinel/request.hpp>
#include <sentinel/response.hpp>

#include <asio/steady_timer.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace sentinel::detail {

class client_core;

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

/// What the client asks of one exchange on a connection.
struct exchange_params {
  response_consumer* consumer = nullptr;  // required
  http1::request_kind kind = http1::request_kind::normal;
  clock::time_point total_deadline = clock::time_point::max();
  clock::duration response_head_timeout{};  // zero: off
  clock::duration idle_read_timeout{};      // zero: off
  std::uint64_t max_body_bytes = 0;         // zero: unlimited
  /// Body bytes go here instead of into the response (streaming); returns false to abort.
  // (reserved for streaming bodies)
};

/// Where a connection goes: straight to the target origin, or through an HTTP proxy.
struct route {
  const url* target = nullptr;           // the origin the requests are for
  const url* proxy = nullptr;            // connect here instead (http:// proxies only), or nullptr
  bool tunnel = false;                   // through the proxy with CONNECT (for https:// targets)
  std::string_view proxy_authorization;  // the Proxy-Authorization value, or empty
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
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(std::shared_ptr<client_core> core, std::string origin);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Resolves, connects (each address in turn, each within `connect_timeout`) and, for https, runs the
  /// TLS handshake within the same per-address budget.
  asio::awaitable<std::error_code> open(const route& r, clock::duration connect_timeout,
                                        clock::time_point total_deadline);

  /// Writes `head` + `body` and reads one complete response into `res` (head fields, body, trailers).
  /// On any error the connection is left non-reusable.
  asio::awaitable<exchange_outcome> exchange(std::string_view head, const outgoing_body& body,
                                             const exchange_params& params, response& res);

  /// True when another request may be sent: the last response was complete, framed, and allowed it.
  bool reusable() const noexcept { return reusable_ && stream_.socket().is_open(); }
  /// Responses completed on this connection.
  std::size_t requests_served() const noexcept { return served_; }
  /// Cheap liveness probe for an idle connection: false when the peer has closed it (readable EOF),
  /// reset it, or sent unsolicited bytes.
  bool idle_check() noexcept;

  /// Closes now. A TLS connection first tries to send close_notify (bounded, in the background).
  void close(bool graceful = true) noexcept;
  /// Cancels pending I/O (the exchange fails with operation_aborted) without closing.
  void cancel() noexcept {
    std::error_code ignored;
    stream_.socket().cancel(ignored);
  }
  /// Cancels the deadline timer if it is pending, so an idle client leaves no work on its executor.
  void stop_timer() noexcept;

  const std::string& origin() const noexcept { return origin_; }
  std::string& write_buffer() noexcept { return wbuf_; }
  bool is_tls() const noexcept { return const_cast<stream&>(stream_).is_tls(); }

  // Pool bookkeeping (owned by connection_pool).
  clock::time_point idle_since{};

 private:
  struct chunk {
    char* data = nullptr;
    std::size_t size = 0;
  };
  asio::awaitable<std::error_code> write_all(std::string_view head, std::string_view body);
  asio::awaitable<std::error_code> tunnel(const route& r);                // CONNECT through a proxy
  asio::awaitable<std::error_code> send_body(const outgoing_body& body);  // file or source bodies
  asio::awaitable<std::error_code> fill(chunk& c);                        // leftover + newly read bytes
  void keep(const chunk& c, std::size_t consumed);  // retain the unconsumed tail for the next fill()
  std::error_code process(chunk& c, std::size_t& consumed, response& res);
  void copy_head(response& res);

  // deadlines
  void arm() noexcept;
  void on_timer(std::error_code ec, std::uint64_t generation) noexcept;
  void clear_deadlines() noexcept;
  std::error_code fired_or(std::error_code ec) const noexcept;

  std::shared_ptr<client_core> core_;
  std::string origin_;
  mutable stream stream_;
  http1::response_parser parser_;
  std::string spill_;            // TCP: unconsumed bytes between reads (a partial token)
  std::unique_ptr<char[]> own_;  // TLS: this connection's read buffer
  std::size_t own_cap_ = 0, own_len_ = 0;
  std::string wbuf_;  // the serialized request head; reused

  asio::steady_timer timer_;
  clock::time_point timer_at_ = clock::time_point::max();
  std::uint64_t timer_gen_ = 0;
  bool timer_pending_ = false;
  clock::time_point total_deadline_ = clock::time_point::max();
  clock::time_point phase_deadline_ = clock::time_point::max();
  error phase_error_ = error::connect_timeout;
  clock::duration idle_timeout_{};
  clock::time_point idle_deadline_ = clock::time_point::max();
  clock::time_point continue_deadline_ = clock::time_point::max();  // Expect: 100-continue wait
  std::optional<error> fired_;
  bool continue_expired_ = false;   // the 100-continue wait ended without an answer: send the body
  bool continue_received_ = false;  // a 100 Continue arrived

  response_consumer* consumer_ = nullptr;  // during an exchange
  std::size_t served_ = 0;
  std::size_t exchange_bytes_ = 0;
  bool reusable_ = false;
  bool wait_first_ = false;  // the next fill() waits for readability before trying to read
};

}  // namespace sentinel::detail
