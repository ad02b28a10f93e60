// sentinel: the TLS client context and handshake error mapping. See tls.hpp.
#include "transport/tls.hpp"

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace sentinel::detail {
namespace {

// ex_data slots: the SSL object knows its tls_context and the origin its session belongs to.
struct session_owner {
  tls_context* ctx;
  std::string origin;
};

// OpenSSL frees the session_owner together with the SSL object.
void free_session_owner(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<session_owner*>(ptr);
}

int session_owner_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_session_owner);
  return index;
}

// OpenSSL calls this when the server hands us a session (after the TLS 1.2 handshake, or when a TLS 1.3
// NewSessionTicket arrives after it). Returning 1 keeps the reference we were given.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* owner = static_cast<session_owner*>(SSL_get_ex_data(ssl, session_owner_index()));
  if (owner == nullptr || owner->ctx == nullptr) return 0;
  owner->ctx->store_session(owner->origin, session);
  return 1;
}

std::error_code make_ssl_error() {
  const unsigned long e = ::ERR_get_error();
  if (e == 0) return make_error_code(error::tls_handshake_failed);
  return {static_cast<int>(e), asio::error::get_ssl_category()};
}

}  // namespace

// ---- tls_context --------------------------------------------------------------------------------------

tls_context::tls_context(const tls_options& opts)
    : ctx_(asio::ssl::context::tls_client), verify_(!opts.insecure_skip_verify) {
  SSL_CTX* native = ctx_.native_handle();
  // TLS 1.2 is the floor: older versions are broken and no server worth talking to needs them.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(native, on_new_session);

  std::error_code ec;
  if (verify_) {
    ctx_.set_verify_mode(asio::ssl::verify_peer, ec);
    if (!ec) {
      if (opts.ca_file.empty() && opts.ca_path.empty()) {
        ctx_.set_default_verify_paths(ec);
      } else {
        if (!opts.ca_file.empty()) ctx_.load_verify_file(opts.ca_file, ec);
        if (!ec && !opts.ca_path.empty()) ctx_.add_verify_path(opts.ca_path, ec);
      }
    }
  } else {
    ctx_.set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (!ec && !opts.cert_file.empty()) ctx_.use_certificate_chain_file(opts.cert_file, ec);
  if (!ec && !opts.key_file.empty()) ctx_.use_private_key_file(opts.key_file, asio::ssl::context::pem, ec);
  init_error_ = ec;
}

tls_context::~tls_context() {
  for (auto& [origin, s] : sessions_)
    SSL_SESSION_free(s);
}

SSL_SESSION* tls_context::session_for(const std::string& origin) const noexcept {
  auto it = sessions_.find(origin);
  return it == sessions_.end() ? nullptr : it->second;
}

void tls_context::store_session(const std::string& origin, SSL_SESSION* s) {
  auto [it, inserted] = sessions_.try_emplace(origin, s);
  if (!inserted) {
    SSL_SESSION_free(it->second);
    it->second = s;
  }
}

std::error_code tls_context::prepare(SSL* ssl, const url& u, const std::string& session_key,
                                     std::span<const std::string_view> alpn) {
  if (init_error_) return init_error_;
  const std::string host(u.host());
  if (!u.host_is_ip()) {
    // SNI only for names: RFC 6066 §3 forbids literal IP addresses in server_name.
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return make_ssl_error();
  }
  if (verify_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = u.host_is_ip() ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                  : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) return make_ssl_error();
  }
  if (!alpn.empty()) {
    // RFC 7301 §3.1: each protocol name prefixed with its length.
    std::string wire;
    for (std::string_view p : alpn) {
      if (p.empty() || p.size() > 255) return make_error_code(error::internal);
      wire += static_cast<char>(p.size());
      wire += p;
    }
    if (SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size())) != 0)
      return make_ssl_error();
  }
  auto owner = std::make_unique<session_owner>(session_owner{this, session_key});
  if (SSL_set_ex_data(ssl, session_owner_index(), owner.get()) != 1) return make_ssl_error();
  owner.release();  // now owned by the SSL object (free_session_owner)
  if (SSL_SESSION* s = session_for(session_key)) SSL_set_session(ssl, s);
  return {};
}

std::error_code map_tls_error(std::error_code ec, SSL* ssl) {
  if (!ec || ssl == nullptr) return ec;
  // With insecure_skip_verify OpenSSL still records what verification would have found; it did not fail
  // the handshake, so it must not name the failure.
  const long verify = SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE ? X509_V_OK : SSL_get_verify_result(ssl);
  switch (verify) {
    case X509_V_OK:
      // Not a certificate problem. A peer that closed the connection mid-handshake (Asio reports a TLS
      // stream ending without close_notify as stream_truncated) failed the handshake; a TLS alert or a
      // protocol error passes through: OpenSSL's own error says what went wrong.
      if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof)
        return make_error_code(error::tls_handshake_failed);
      return ec;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return make_error_code(error::certificate_expired);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return make_error_code(error::certificate_not_yet_valid);
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return make_error_code(error::certificate_self_signed);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return make_error_code(error::certificate_untrusted);
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return make_error_code(error::certificate_host_mismatch);
    default:
      return make_error_code(error::certificate_invalid);
  }
}

}  // namespace sentinel::detail
