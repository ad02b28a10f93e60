// sentinel: every limit, timeout and policy with its default, in one place.
#pragma once

#include <sentinel/config.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace sentinel {

class response;

/// Timeouts. A zero duration disables that timeout. Each one fires with its own error code (see
/// error.hpp) and closes the connection it fired on; the pool stays healthy.
struct timeout_options {
  /// Waiting for a free connection when the origin's connection cap is reached.  error::pool_timeout
  std::chrono::milliseconds pool_acquire{std::chrono::seconds(30)};
  /// DNS resolution plus TCP connect (per address tried) plus TLS handshake.  error::connect_timeout
  std::chrono::milliseconds connect{std::chrono::seconds(10)};
  /// From the request being written to the complete response head.  error::response_timeout
  std::chrono::milliseconds response_head{std::chrono::seconds(60)};
  /// No byte received for this long while a response is being read (from its first byte on: the wait
  /// for the first byte is response_head's).  error::idle_timeout
  std::chrono::milliseconds idle_read{std::chrono::seconds(30)};
  /// The whole exchange, redirects and retries included; off by default.  error::request_timeout
  std::chrono::milliseconds total{0};
  /// With Expect: 100-continue, how long to wait for the 100 before sending the body anyway.
  std::chrono::milliseconds expect_continue{std::chrono::seconds(1)};
};

/// Size limits on what a server may send. Exceeding one fails the request with the named error and
/// retires the connection (it is never reused). docs/limits.md compares each with curl's and Go's.
struct limit_options {
  /// Status line plus all header lines, line ends included (and, separately, a chunked body's trailer
  /// block).
  std::size_t max_head_bytes = 64 * 1024;  ///< error::header_too_large
  /// One status, field or trailer line, its line end included (each obs-fold line counts on its own).
  /// 0: no cap of its own (max_head_bytes still bounds every line). The default lets one line take the
  /// whole head; lower it, or raise max_head_bytes above it, for a separate per-line bound.
  std::size_t max_header_line_bytes = 64 * 1024;  ///< error::header_line_too_long
  std::size_t max_header_count = 100;             ///< error::too_many_headers (also the trailer count)
  std::size_t max_body_bytes = 64u << 20;         ///< error::body_too_large (64 MiB; 0 = unlimited)
  std::size_t max_chunk_line_bytes = 4096;        ///< error::chunk_line_too_long (size + extensions)
  std::size_t max_decoded_bytes = 256u << 20;     ///< error::decoded_too_large (when decoding bodies)
};

/// The per-client connection pool (one per worker in a client_pool).
struct connection_pool_options {
  /// Connections open at once to one origin (scheme, host, port). Requests beyond it wait, FIFO.
  std::size_t max_per_origin = 64;
  /// Connections open at once in total (0 = no limit beyond max_per_origin).
  std::size_t max_total = 0;
  /// Idle keep-alive connections are closed after this long unused.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  /// Idle connections kept per origin; more are closed when they come back (0 = max_per_origin).
  std::size_t max_idle_per_origin = 0;
  /// HTTP/2: requests one connection carries at once, at most (the server's
  /// SETTINGS_MAX_CONCURRENT_STREAMS may allow fewer). Past it a request opens another connection (within
  /// max_per_origin) or waits. 0 counts as 1.
  std::size_t max_streams_per_connection = 100;
  /// HTTP/2: a pooled connection that has heard nothing from its server for this long is checked with a
  /// PING before it carries the next request (Go's ReadIdleTimeout); with no answer within
  /// timeouts.connect it is dropped and the request goes to a new connection. 0: never.
  std::chrono::milliseconds ping_after_idle{std::chrono::seconds(30)};
};

/// Redirect policy. 301/302/303 turn a POST into a GET without body (303 turns every method but HEAD
/// into GET); 307/308 keep method and body; Authorization, Cookie and Proxy-Authorization are dropped
/// when the origin changes.
struct redirect_options {
  bool follow = false;             ///< Off by default: a 3xx is returned as is.
  std::size_t max_redirects = 10;  ///< error::too_many_redirects past this.
};

/// Safe retry of requests that died on a stale pooled connection (see docs/retry.md).
struct retry_options {
  /// Retry once on a fresh connection when a *reused* connection failed before any response byte
  /// arrived and the request is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or carries an
  /// Idempotency-Key header. Never for a fresh connection.
  bool retry_stale = true;
  /// Times a request is sent again when the server refused it without processing it (HTTP/2: a stream
  /// reset with REFUSED_STREAM, or above a GOAWAY's last stream id), each time on a connection opened
  /// after the refusal. Any method: the server proves it did not act on the request (RFC 9113 §8.7); a
  /// body from a body source, which cannot be read twice, is not sent again. 0: never;
  /// error::stream_refused when they run out.
  unsigned max_refused = 5;
};

/// TLS settings (for https:// URLs). Verification is on by default.
struct tls_options {
  /// CA bundle file (PEM). Empty: the system trust store.
  std::string ca_file;
  /// CA directory (hashed, as `c_rehash` makes). Empty: the system trust store.
  std::string ca_path;
  /// Client certificate chain (PEM) and its private key, for servers that ask for one.
  std::string cert_file;
  std::string key_file;
  /// DANGER: accept any certificate for any host. For testing against throw-away servers only; the name
  /// is long on purpose so that it stands out in review.
  bool insecure_skip_verify = false;
};

/// HTTP proxies. A proxy URL is http://[user:password@]host[:port] (a plain-HTTP proxy; port 80 if omitted,
/// as for any http URL); its userinfo, percent-decoded, is sent as Basic Proxy-Authorization.
/// - http:// requests go to `http_proxy` in absolute form; connections to the proxy are shared by all
///   targets.
/// - https:// requests go through a CONNECT tunnel to `https_proxy`; TLS runs end to end with the target
///   and is verified as usual. A refused tunnel fails with error::proxy_error.
struct proxy_options {
  std::string http_proxy;   ///< for http:// URLs; empty: direct
  std::string https_proxy;  ///< for https:// URLs; empty: direct
  /// Hosts that bypass the proxies: a comma-separated list of names or domains ("example.com" matches it
  /// and its subdomains, as does ".example.com"), IP literals, or "*" for all.
  std::string no_proxy;
  /// Also read http_proxy, https_proxy and no_proxy from the environment when the client is created
  /// (HTTPS_PROXY and NO_PROXY too; HTTP_PROXY is ignored, as curl does, since a CGI request can set it).
  /// Values set above win over the environment. Off by default: a library should not change routes
  /// behind its user's back.
  bool from_environment = false;
};

/// Which HTTP version a request may use (see docs/http2.md). HTTP/2 needs a library built with it
/// (`sentinel::http2_built`); without it every choice means HTTP/1.1.
enum class http_version {
  /// HTTP/1.1 only: TLS offers ALPN `http/1.1`.
  http1_1,
  /// https:// offers ALPN `h2,http/1.1` and speaks what the server picks; http:// is HTTP/1.1. Requests
  /// through an HTTP forward proxy stay HTTP/1.1 (as curl's).
  http2,
  /// HTTP/2 without negotiation: http:// speaks h2c from the first byte (the server must know), https://
  /// offers only `h2`.
  http2_prior_knowledge,
};

/// Everything an http_client can be configured with. Values, not handles: copy freely.
struct client_options {
  timeout_options timeouts;
  limit_options limits;
  connection_pool_options pool;
  redirect_options redirect;
  retry_options retry;
  tls_options tls;
  proxy_options proxy;
  /// Sent as User-Agent unless the request has one. Empty: no User-Agent.
  std::string user_agent = std::string("sentinel/") + SENTINEL_VERSION_STRING;
  /// Ask for gzip/deflate (Accept-Encoding) and decode the body transparently.
  bool decompress = false;
  /// https:// offers ALPN `h2,http/1.1` and speaks what the server picks, as curl and browsers do;
  /// http:// is HTTP/1.1. `http1_1` keeps every connection HTTP/1.1.
  http_version version = http_version::http2;
};

/// Per-request overrides of client_options. Unset members take the client's value.
struct request_options {
  std::optional<std::chrono::milliseconds> pool_acquire_timeout;
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> response_head_timeout;
  std::optional<std::chrono::milliseconds> idle_read_timeout;
  std::optional<std::chrono::milliseconds> total_timeout;
  std::optional<std::size_t> max_body_bytes;
  std::optional<bool> follow_redirects;
  std::optional<std::size_t> max_redirects;
  std::optional<bool> decompress;
  std::optional<http_version> version;
  /// Mark a non-idempotent request (e.g. a POST) as safe to re-send on a stale connection.
  bool retryable = false;
  /// Send `Expect: 100-continue` and the body only after the server's 100 (or timeouts.expect_continue
  /// without an answer). A final response that comes first (401, 413, ...) is returned, the body unsent.
  bool expect_continue = false;

  /// Streaming download. Called once with the final response's status and header fields, before any body
  /// byte (redirects that are followed never reach it). Runs on the client's executor: for a client_pool,
  /// on the worker's thread. Return false to abort the exchange (error::aborted_by_callback).
  std::function<bool(const response&)> on_head;
  /// Streaming download. Receives the body in pieces, as they arrive (after content decoding when it is
  /// on), instead of collecting it into response::body(); memory stays bounded whatever the body size.
  /// Runs like on_head. Return false to abort (error::aborted_by_callback; the connection is closed).
  /// on_head, on_body and body sources may throw: the request then completes with error::callback_threw,
  /// the exception in response::info().callback_exception, and the connection is closed.
  /// With on_body set, limits.max_body_bytes applies only when set for this request (max_body_bytes).
  std::function<bool(std::string_view)> on_body;
};

/// Configuration of a client_pool.
struct pool_options {
  /// Worker threads started by the constructor (at least 1). Default: the number of hardware threads.
  std::size_t workers = std::thread::hardware_concurrency() ? std::thread::hardware_concurrency() : 1;
  /// Options for each worker's http_client.
  client_options client;
  /// How long scale_down()/stop() let in-flight tasks finish before cancelling them (they then complete
  /// with operation_aborted).
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(30)};
  /// Called when an exception (of any type) escapes a handler run by a thread the pool owns: a
  /// completion handler on the pool's completion thread (a plain callback), or a handler the user bound
  /// to a worker's executor. That thread then goes on running; the tasks and completions queued behind
  /// the handler still run. Runs on the thread where the exception escaped, possibly on several threads
  /// at once. Empty (the default): a line on stderr naming the thread and the exception. An exception
  /// the hook throws is printed and dropped. See docs/cancellation.md, "Exceptions".
  std::function<void(std::exception_ptr)> on_handler_exception;
};

}  // namespace sentinel
