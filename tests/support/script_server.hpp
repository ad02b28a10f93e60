// sentinel test support: an in-process HTTP/1.1 server on loopback that plays scripted bytes and faults,
// or answers every request through a handler. It runs on its own thread and io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel::test {

namespace detail {
struct script_server_state;
}

/// Header fields in wire order, names as sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// One request as the server received it.
struct received_request {
  std::size_t connection = 0;  ///< index of the connection in accept order (0 = first accepted)
  std::size_t sequence = 0;    ///< index of this request on its connection (0 = first)
  std::string method;          ///< "GET"
  std::string target;          ///< "/path?query" (or an absolute URL when sent through a proxy)
  std::string version;         ///< "HTTP/1.1"
  header_list headers;         ///< every field, in order
  std::string body;            ///< the body with chunked framing removed
  bool chunked = false;        ///< the body came with Transfer-Encoding: chunked
  std::string raw;             ///< the exact bytes: head, then body with its framing and trailers

  /// The value of the first field named `name` (case-insensitive), or "" if there is none.
  std::string_view header(std::string_view name) const;
  /// Whether a field named `name` (case-insensitive) is present.
  bool has_header(std::string_view name) const;
  /// How many fields are named `name` (case-insensitive).
  std::size_t header_count(std::string_view name) const;
};

/// One step of a per-connection script. Build steps with the static functions.
struct step {
  enum class kind {
    expect_request,  ///< read one complete request (head, then body by Content-Length or chunked); record it
    expect_head,     ///< read only a request head and record it (for Expect: 100-continue)
    expect_body,     ///< read the body of the request read by expect_head; added to that record
    expect_nothing,  ///< read for `duration`; bytes that arrive are counted by unexpected_bytes()
    send,            ///< write `bytes`
    send_drip,       ///< write `bytes` one byte at a time, `duration` apart
    stall,           ///< do nothing for `duration` (reads nothing either)
    stall_forever,   ///< do nothing until the server is destroyed
    close,           ///< graceful close: TLS close_notify, FIN, then close the socket
    shutdown_send,   ///< half-close: TLS close_notify and FIN, keep the socket open for reading
    reset,           ///< SO_LINGER 0 and close: the client sees a RST (ECONNRESET)
    wait_for_close,  ///< read and discard until the client closes (or resets), then close
    close_without_notify,  ///< FIN without TLS close_notify (a truncated TLS stream); plain TCP: as close
  };
  kind what = kind::close;
  std::string bytes;
  std::chrono::milliseconds duration{0};

  /// Read and record one complete request; the script ends (socket closed) if the client closes first.
  static step expect_request() { return {kind::expect_request, {}, {}}; }
  /// Read and record only a request head (the record's body stays empty until expect_body).
  static step expect_head() { return {kind::expect_head, {}, {}}; }
  /// Read the body announced by the head from expect_head; it is appended to that record.
  static step expect_body() { return {kind::expect_body, {}, {}}; }
  /// Read for `d` and count every byte the client sends meanwhile, or had already sent past what earlier
  /// steps consumed (e.g. a body that came with its head, before the 100 Continue a script sends next), in
  /// unexpected_bytes(). The bytes stay buffered for the next step. Plain TCP only.
  static step expect_nothing(std::chrono::milliseconds d) { return {kind::expect_nothing, {}, d}; }
  /// Write `bytes` as they are.
  static step send(std::string bytes) { return {kind::send, std::move(bytes), {}}; }
  /// Write `bytes` one byte per write, waiting `interval` after each byte but the last.
  static step send_drip(std::string bytes, std::chrono::milliseconds interval) {
    return {kind::send_drip, std::move(bytes), interval};
  }
  /// Wait `d` without reading or writing.
  static step stall(std::chrono::milliseconds d) { return {kind::stall, {}, d}; }
  /// Wait until the server is destroyed; the socket stays open.
  static step stall_forever() { return {kind::stall_forever, {}, {}}; }
  /// Graceful close (what a script does anyway when it runs out of steps).
  static step close() { return {kind::close, {}, {}}; }
  /// Half-close the sending side; only stall, wait_for_close, close or reset make sense afterwards.
  static step shutdown_send() { return {kind::shutdown_send, {}, {}}; }
  /// Abortive close: the peer gets a RST.
  static step reset() { return {kind::reset, {}, {}}; }
  /// Read until the client closes, then close.
  static step wait_for_close() { return {kind::wait_for_close, {}, {}}; }
  /// Over TLS: FIN and close without sending close_notify, so the client sees a truncated TLS stream
  /// (unread client bytes are dropped first, as in close()). Over plain TCP it is the same as close().
  static step close_without_notify() { return {kind::close_without_notify, {}, {}}; }
};

/// The steps for one connection.
using script = std::vector<step>;

/// TLS settings of a script_server.
struct tls_options {
  std::string cert_chain_file;  ///< PEM: the leaf certificate, then any intermediates to send
  std::string key_file;         ///< PEM private key of the leaf
  std::string client_ca_file;   ///< if set: require a client certificate that verifies against this CA
};

/// What the TLS layer of one script_server connection saw.
struct tls_connection_info {
  bool handshake_done = false;         ///< the handshake completed
  std::string server_name;             ///< the SNI host name the client sent ("" when it sent none)
  std::string alpn;                    ///< "http/1.1" when the client offered it in ALPN (the server
                                       ///< selects only that), else ""
  bool resumed = false;                ///< the handshake resumed an earlier session (SSL_session_reused)
  bool close_notify_received = false;  ///< a read ended with the client's close_notify (a clean close)
};

/// Settings of a script_server.
struct server_options {
  bool ipv6 = false;                            ///< listen on [::1] instead of 127.0.0.1
  std::optional<tls_options> tls;               ///< serve HTTPS (every connection starts with a handshake)
  bool record_requests = true;                  ///< keep every received_request (turn off for long benches)
  std::size_t max_requests_per_connection = 0;  ///< handler mode: close after this many (0 = no limit)
  bool auto_continue =
      true;  ///< handler mode: answer "Expect: 100-continue" with 100 before reading the body
};

/// An HTTP/1.1 test server on 127.0.0.1 (or ::1), port 0, running on its own thread.
/**
 * Two modes:
 * - Scripts: connection i (accept order) runs `scripts[i]`, later connections run `fallback` (an empty
 *   script closes at once). A script that runs out of steps closes gracefully.
 * - Handler: every request on every connection is answered with `h(request)` (raw response bytes), in a
 *   keep-alive loop until the client closes. The connection is closed after the response if the handler
 *   returns "" (closed without answering), if the request or the response says `Connection: close`, if the
 *   request is HTTP/1.0 without keep-alive, or after `max_requests_per_connection`.
 * Malformed requests close the connection (counted by bad_requests()).
 *
 * The server starts in the constructor; the destructor stops its io_context, joins the thread and closes
 * every socket (stalled scripts included). Observers are thread-safe and may be called from any thread.
 * Handlers run on the server thread: keep them quick, and synchronise whatever they share with the test.
 */
class script_server {
 public:
  /// Computes the raw response bytes for one request; runs on the server thread.
  using handler = std::function<std::string(const received_request&)>;

  /// Script mode. Throws std::system_error if it cannot listen, or if the TLS files cannot be loaded.
  explicit script_server(std::vector<script> scripts, script fallback = {}, server_options opts = {});
  /// Handler mode. Throws like the script constructor.
  explicit script_server(handler h, server_options opts = {});
  ~script_server();
  script_server(const script_server&) = delete;
  script_server& operator=(const script_server&) = delete;

  /// The listening port (chosen by the kernel).
  unsigned short port() const noexcept;
  /// "127.0.0.1" or "::1" (without brackets).
  std::string host() const;
  /// The URL for `path` on this server: "http://127.0.0.1:PORT/path", "https://..." with TLS,
  /// "http://[::1]:PORT/path" with IPv6. A missing leading '/' is added.
  std::string url(std::string_view path = "/") const;

  /// Connections accepted so far (TCP accepts, whether or not a TLS handshake then succeeded).
  std::size_t connections_accepted() const;
  /// Connections whose script or handler loop has finished and whose socket is closed.
  std::size_t connections_closed() const;
  /// Requests read so far (heads, for expect_head).
  std::size_t requests_received() const;
  /// Connections closed because a request could not be parsed.
  std::size_t bad_requests() const;
  /// Bytes that expect_nothing steps saw arrive (all connections).
  std::size_t unexpected_bytes() const;
  /// TLS handshakes that failed (for example because the client rejected the certificate).
  std::size_t tls_handshake_failures() const;
  /// TLS: what the TLS layer saw on each connection, in accept order (one entry per accepted connection;
  /// all fields stay default until its handshake completes). Empty entries without TLS.
  std::vector<tls_connection_info> tls_connections() const;

  /// Copies of every recorded request, per connection in accept order (a connection without requests has
  /// an empty vector). Empty if record_requests is off.
  std::vector<std::vector<received_request>> requests() const;
  /// The recorded requests of connection `index` (empty if there is no such connection yet).
  std::vector<received_request> requests_on(std::size_t index) const;
  /// All recorded requests in the order they were read.
  std::vector<received_request> all_requests() const;

  /// Blocks until connections_accepted() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_connections(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Blocks until requests_received() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Blocks until connections_closed() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_closed(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  /// "HTTP/1.1 <status> <reason>\r\nContent-Length: <n>\r\n<headers>\r\n<body>". Pass a Content-Length in
  /// `headers` to override the computed one (it is then not added), e.g. for HEAD replies or lies.
  static std::string response(int status, std::string_view body = {}, const header_list& headers = {});
  /// A chunked response: "Transfer-Encoding: chunked", one chunk per element (empty ones are skipped),
  /// the last chunk, `trailers`, and the final CRLF.
  static std::string chunked_response(int status, const std::vector<std::string>& chunks,
                                      const header_list& headers = {}, const header_list& trailers = {});
  /// The standard reason phrase for `status` ("OK", "Not Found", ...), "Unknown" if there is none.
  static std::string_view reason(int status);

 private:
  std::unique_ptr<detail::script_server_state> s_;
};

}  // namespace sentinel::test
