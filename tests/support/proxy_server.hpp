// sentinel test support: an in-process HTTP/1.1 proxy on loopback, for testing the client's proxy support.
// It tunnels CONNECT requests and forwards absolute-form requests, only ever to loopback targets. It runs
// on its own thread and io_context, like script_server.
#pragma once

#include "support/script_server.hpp"  // received_request, header_list

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sentinel::test {

namespace detail {
struct proxy_server_state;
}

/// Settings of a proxy_server. (Not sentinel::proxy_options, the client's setting of the same name.)
struct proxy_options {
  /// If set, every request must carry exactly this Proxy-Authorization value (e.g. "Basic dXNlcjpwYXNz");
  /// a missing or different one is answered 407 with `Proxy-Authenticate: Basic realm="test"`, and the
  /// connection stays open for the next request.
  std::string required_auth;
  /// Answer every CONNECT (that passed the auth and loopback checks) with 502 instead of tunnelling.
  bool refuse_connect = false;
};

/// One request as the proxy received it from a client, with the proxy's answer.
struct proxied_request : received_request {
  /// `connection` is the client connection (accept order), `sequence` the request's index on it. `target`
  /// is the authority for CONNECT ("127.0.0.1:PORT") and the absolute URL for a forwarded request.
  /// `headers` are the client's, Proxy-Authorization included.

  /// What the client got: 200 for an established tunnel; 407, 403, 400 or 502 from the proxy itself; for a
  /// forwarded request the target's status code (502 if the target did not answer).
  int status = 0;
};

/// An HTTP/1.1 proxy on 127.0.0.1, port 0, running on its own thread. Only loopback targets are allowed.
/**
 * - `CONNECT host:port`: checks auth (407), allows only 127.0.0.1, localhost and [::1] (403 otherwise), then
 *   answers 502 with `refuse_connect` or if the target does not accept, else "200 Connection Established"
 *   and relays bytes both ways until either side closes; then both sockets are closed.
 * - Absolute-form requests (`GET http://127.0.0.1:PORT/path?q HTTP/1.1`): checks auth and the target the
 *   same way, opens a new connection to the target for every request, and sends it in origin form
 *   (`GET /path?q HTTP/1.1`) with the client's fields minus Proxy-Authorization, Proxy-Connection and
 *   Connection, plus `Connection: close`, and the body as received. The target's response, read until it
 *   closes, goes back to the client unchanged. The client connection then stays open for the next request
 *   (to any target) if the response was complete and framed (Content-Length, chunked, or a status or
 *   method without a body) and neither the request nor the response said `Connection: close`.
 *   `Expect: 100-continue` is answered by the proxy with 100 before it reads the body (and is forwarded).
 * - The proxy's own answers (407, 403, 400, 502) have `Content-Length: 0` and keep the connection open,
 *   unless the client asked to close (HTTP/1.0 without keep-alive, `Connection: close`).
 * - Anything else (origin-form targets, other schemes) is answered 400. A malformed request closes the
 *   connection without an answer (counted in bad_requests()).
 *
 * The destructor stops the io_context, joins the thread and closes every socket (tunnels and idle
 * keep-alive connections included). Observers are thread-safe.
 */
class proxy_server {
 public:
  /// Starts listening. Throws std::system_error if it cannot.
  explicit proxy_server(proxy_options opts = {});
  ~proxy_server();
  proxy_server(const proxy_server&) = delete;
  proxy_server& operator=(const proxy_server&) = delete;

  /// The listening port (chosen by the kernel).
  unsigned short port() const noexcept;
  /// "http://127.0.0.1:PORT", the proxy URL for a client.
  std::string url() const;

  /// Client connections accepted so far.
  std::size_t connections_accepted() const;
  /// Client connections that have ended (both sockets of a tunnel closed).
  std::size_t connections_closed() const;
  /// CONNECT requests answered so far, whatever the answer (200, 407, 403, 502, 400).
  std::size_t connects() const;
  /// CONNECT requests answered 200 (tunnels established).
  std::size_t tunnels() const;
  /// Absolute-form requests sent on to their target (counted when the answer goes back to the client).
  std::size_t forwarded() const;
  /// Requests answered 407.
  std::size_t auth_failures() const;
  /// Requests answered so far (every record in requests()).
  std::size_t requests_received() const;
  /// Client connections closed because a request could not be parsed.
  std::size_t bad_requests() const;

  /// Copies of every request answered so far, CONNECT and forwarded ones, in the order they were answered.
  /// A record is complete before its answer is written to the client.
  std::vector<proxied_request> requests() const;

  /// Blocks until connections_accepted() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_connections(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Blocks until connections_closed() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_closed(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Blocks until connects() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_connects(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Blocks until forwarded() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_forwarded(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// Blocks until requests_received() >= n or `timeout` passes; returns whether it got there.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

 private:
  std::unique_ptr<detail::proxy_server_state> s_;
};

}  // namespace sentinel::test
