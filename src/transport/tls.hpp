// sentinel: the TLS client context of one http_client (one per worker: never shared across threads),
// and the mapping of handshake failures to sentinel's codes.
//
// TLS uses Asio's OpenSSL stream; certificate and host name checks are OpenSSL's own
// (X509_VERIFY_PARAM_set1_host / set1_ip_asc), so the verify result names the exact reason, which we map to
// distinct error codes (see map_tls_error). See docs/tls.md.
#pragma once

#include <sentinel/error.hpp>
#include <sentinel/options.hpp>
#include <sentinel/url.hpp>

#include <asio/ssl/context.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

namespace sentinel::detail {

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
  /// Configures a new SSL object for a connection to `u`: SNI for host names (not IP literals), the host
  /// name or IP check, the ALPN list (in preference order; empty: none), and the cached session of
  /// `session_key` for resumption.
  std::error_code prepare(SSL* ssl, const url& u, const std::string& session_key,
                          std::span<const std::string_view> alpn);
  asio::ssl::context& native() noexcept { return ctx_; }
  bool verify() const noexcept { return verify_; }

  /// Session resumption: the newest session the server gave us for `origin` (nullptr if none), and the
  /// hook OpenSSL calls when a session (a TLS 1.3 ticket, or a 1.2 session) arrives.
  SSL_SESSION* session_for(const std::string& origin) const noexcept;
  void store_session(const std::string& origin, SSL_SESSION* s);  // takes ownership of one reference

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

}  // namespace sentinel::detail
