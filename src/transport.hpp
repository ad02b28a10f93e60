// sentinel: the byte transport under a connection: TCP or TLS over TCP, name resolution with a small
// per-client cache, and the TLS client context (one per http_client, so one per worker: never shared
// across threads).
//
// TLS uses Asio's OpenSSL stream; certificate and host name checks are OpenSSL's own
// (X509_VERIFY_PARAM_set1_host / set1_ip_asc), so the verify result names the exact reason, which we map to
// distinct error codes (see map_tls_error). See docs/tls.md.
#pragma once

#include <sentinel/error.hpp>
#include <sentinel/options.hpp>
#include <sentinel/url.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sentinel::detail {

using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

/// The TLS client context of one http_client: trust store, client certificate, session cache.
class tls_context {
 public:
  explicit tls_context(const tls_options& opts);
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// Non-empty when the options could not be applied (unreadable CA file, bad key, ...); every https
  /// connection then fails with it.
  std::error_code init_error() const noexcept { return init_error_; }
  asio::ssl::context& native() noexcept { return ctx_; }
  bool verify() const noexcept { return verify_; }

  /// Session resumption: the newest session the server gave us for `origin` (nullptr if none), and the
  /// hook OpenSSL calls when a session (a TLS 1.3 ticket, or a 1.2 session) arrives.
  SSL_SESSION* session_for(const std::string& origin) const noexcept;
  void store_session(const std::string& origin, SSL_SESSION* s);  // takes ownership of one reference
  void forget_session(const std::string& origin) noexcept;

  std::size_t handshakes() const noexcept { return handshakes_; }
  std::size_t resumed() const noexcept { return resumed_; }
  void count_handshake(bool resumed) noexcept {
    ++handshakes_;
    if (resumed) ++resumed_;
  }

 private:
  asio::ssl::context ctx_;
  std::error_code init_error_;
  bool verify_ = true;
  std::unordered_map<std::string, SSL_SESSION*> sessions_;
  std::size_t handshakes_ = 0, resumed_ = 0;
};

/// Maps a failed TLS handshake to sentinel's codes: a certificate verification failure becomes the
/// certificate_* code for OpenSSL's verify result; anything else passes OpenSSL's own error through.
std::error_code map_tls_error(std::error_code ec, SSL* ssl);

/// A TCP stream, optionally wrapped in TLS. Belongs to one connection.
class stream {
 public:
  explicit stream(const asio::any_io_executor& ex) : tcp_(ex) {}

  /// The TCP socket (under TLS when TLS is on).
  tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : tcp_; }
  asio::ssl::stream<tcp::socket>* tls() noexcept { return tls_.get(); }
  bool is_tls() const noexcept { return tls_ != nullptr; }

  /// Wraps the connected socket in TLS for `u`: SNI for host names (not IP literals), the host name or
  /// IP check, ALPN http/1.1, and a cached session for resumption. The handshake is the caller's.
  std::error_code start_tls(tls_context& ctx, const url& u, const std::string& origin);

  /// Closes the socket now (no TLS close_notify). Pending operations complete with operation_aborted.
  void close() noexcept;

 private:
  tcp::socket tcp_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

/// Name resolution with a per-client cache (getaddrinfo gives no TTL: entries live `ttl`).
/// IP literals never touch the resolver.
class dns_cache {
 public:
  explicit dns_cache(asio::any_io_executor ex, std::chrono::seconds ttl = std::chrono::seconds(60))
      : ex_(std::move(ex)), ttl_(ttl) {}

  /// Resolves u's host and port into `out` (in the resolver's order). Fails with resolve_timeout when
  /// `deadline` passes first, or with the resolver's error.
  asio::awaitable<std::error_code> resolve(const url& u, std::vector<tcp::endpoint>& out,
                                           clock::time_point deadline);
  void clear() noexcept { entries_.clear(); }

 private:
  struct entry {
    std::vector<tcp::endpoint> endpoints;
    clock::time_point expires;
  };
  asio::any_io_executor ex_;
  std::chrono::seconds ttl_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace sentinel::detail
