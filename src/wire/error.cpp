// sentinel: error and condition categories. Wire code: no Asio. The Asio codes a condition covers are
// recognised by their category's name and their value (asio_codes.hpp, whose values the client library
// checks against Asio's own enumerators at compile time).
#include <sentinel/error.hpp>

#include "wire/asio_codes.hpp"

#include <cstring>
#include <string>

namespace sentinel {
namespace {

// Categories are singletons, but a program that links two copies of Asio (or of sentinel) across shared
// libraries gets one instance per copy; comparing names as well keeps the mapping working there.
bool same_category(const std::error_category& a, const std::error_category& b) noexcept {
  return &a == &b || std::strcmp(a.name(), b.name()) == 0;
}

struct error_info {
  const char* name;
  const char* message;
};

// Indexed by the enumerator's value; keep in the order of error.hpp.
constexpr error_info error_table[] = {
    {"", ""},  // 0 is success, never a sentinel::error
    {"invalid_url", "invalid URL: not an absolute http:// or https:// URL, or it contains illegal bytes"},
    {"unsupported_scheme", "unsupported URL scheme: only http and https are supported"},
    {"invalid_request", "invalid request: method, target or a header field contains illegal bytes"},
    {"pool_stopped", "the client pool (or the worker the task was sent to) has been stopped"},
    {"aborted_by_callback", "the request's on_head or on_body callback returned false"},
    {"bad_status_line", "malformed status line in the response"},
    {"bad_header", "malformed header field in the response"},
    {"bad_content_length", "invalid Content-Length in the response"},
    {"multiple_content_length", "the response has conflicting Content-Length values"},
    {"bad_transfer_encoding", "the response's Transfer-Encoding cannot be framed"},
    {"bad_chunk",
     "malformed chunk-size line, chunk extension or chunk terminator in a chunked response body"},
    {"unexpected_eof", "the connection closed in the middle of the response"},
    {"empty_reply", "the connection closed before any byte of the response arrived"},
    {"unexpected_response", "the server switched protocols (101) though the request asked for no upgrade"},
    {"bad_redirect", "redirect response with a missing or invalid Location"},
    {"bad_content_encoding", "the response body's content encoding is corrupt"},
    {"unsupported_content_encoding", "the response body uses a content encoding the client cannot decode"},
    {"header_too_large", "response head exceeds limits.max_head_bytes"},
    {"too_many_headers", "response has more header fields than limits.max_header_count"},
    {"body_too_large", "response body exceeds limits.max_body_bytes"},
    {"chunk_line_too_long", "chunk-size line exceeds limits.max_chunk_line_bytes"},
    {"too_many_redirects", "more redirects than redirect.max_redirects"},
    {"decoded_too_large", "decoded response body exceeds limits.max_decoded_bytes"},
    {"pool_timeout", "no connection became free within timeouts.pool_acquire"},
    {"resolve_timeout", "name resolution did not finish within timeouts.connect"},
    {"connect_timeout", "connect (and TLS handshake) did not finish within timeouts.connect"},
    {"response_timeout", "the response head did not arrive within timeouts.response_head"},
    {"idle_timeout", "no byte was received within timeouts.idle_read"},
    {"request_timeout", "the exchange did not finish within timeouts.total"},
    {"tls_handshake_failed", "TLS handshake failed"},
    {"certificate_expired", "the peer's certificate has expired"},
    {"certificate_not_yet_valid", "the peer's certificate is not yet valid"},
    {"certificate_untrusted", "the peer's certificate chain does not lead to a trusted CA"},
    {"certificate_self_signed", "the peer's certificate is self-signed and not trusted"},
    {"certificate_host_mismatch", "the peer's certificate does not match the host name"},
    {"certificate_invalid", "the peer's certificate failed verification"},
    {"proxy_error", "the proxy refused the CONNECT tunnel"},
    {"internal", "internal error in sentinel (a bug)"},
    {"callback_threw", "a callback of the request (on_head, on_body or a body source) threw an exception"},
    {"header_line_too_long", "a line of the response head or trailers exceeds limits.max_header_line_bytes"},
    {"alpn_mismatch", "the server chose an application protocol (ALPN) that was not offered"},
    {"body_length_mismatch", "the response body is longer than its content-length"},
    {"stream_refused",
     "the server refused the request without processing it (HTTP/2 REFUSED_STREAM or GOAWAY)"},
    {"stream_reset", "the HTTP/2 stream was reset (RST_STREAM)"},
    {"frame_flood", "the HTTP/2 server sent more frames carrying nothing than the client allows (a flood)"},
    {"http2_protocol_error",
     "the HTTP/2 server broke the protocol; the client ended the connection (GOAWAY)"},
};
constexpr int error_count = static_cast<int>(sizeof(error_table) / sizeof(error_table[0]));
static_assert(static_cast<int>(error::http2_protocol_error) == error_count - 1,
              "error_table is out of sync with error.hpp");

// The condition a sentinel::error belongs to, or 0 for none (proxy_error, internal).
int condition_of(error e) noexcept {
  switch (e) {
    case error::invalid_url:
    case error::unsupported_scheme:
    case error::invalid_request:
    case error::pool_stopped:
    case error::aborted_by_callback:
    case error::callback_threw:
      return static_cast<int>(condition::usage);
    case error::bad_status_line:
    case error::bad_header:
    case error::bad_content_length:
    case error::multiple_content_length:
    case error::bad_transfer_encoding:
    case error::bad_chunk:
    case error::unexpected_response:
    case error::bad_redirect:
    case error::bad_content_encoding:
    case error::unsupported_content_encoding:
    case error::body_length_mismatch:
    case error::http2_protocol_error:
      return static_cast<int>(condition::protocol);
    case error::unexpected_eof:
    case error::empty_reply:
    case error::stream_refused:
    case error::stream_reset:
      return static_cast<int>(condition::connection_lost);
    case error::header_too_large:
    case error::too_many_headers:
    case error::body_too_large:
    case error::chunk_line_too_long:
    case error::too_many_redirects:
    case error::decoded_too_large:
    case error::header_line_too_long:
    case error::frame_flood:
      return static_cast<int>(condition::limit_exceeded);
    case error::pool_timeout:
    case error::resolve_timeout:
    case error::connect_timeout:
    case error::response_timeout:
    case error::idle_timeout:
    case error::request_timeout:
      return static_cast<int>(condition::timeout);
    case error::tls_handshake_failed:
    case error::certificate_expired:
    case error::certificate_not_yet_valid:
    case error::certificate_untrusted:
    case error::certificate_self_signed:
    case error::certificate_host_mismatch:
    case error::certificate_invalid:
    case error::alpn_mismatch:
      return static_cast<int>(condition::tls);
    case error::proxy_error:
    case error::internal:
      return 0;
  }
  return 0;
}

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sentinel"; }

  std::string message(int ev) const override {
    if (ev > 0 && ev < error_count) return error_table[ev].message;
    return "unknown sentinel error " + std::to_string(ev);
  }

  // Lets `ec.default_error_condition()` name the class of a sentinel error, too.
  std::error_condition default_error_condition(int ev) const noexcept override {
    const int c = condition_of(static_cast<error>(ev));
    if (c != 0) return {c, sentinel::condition_category()};
    return {ev, *this};
  }
};

namespace asio_codes = detail::asio_codes;

// True when `ec`'s category is Asio's category `name` (compared by name: see same_category).
bool in_asio_category(const std::error_code& ec, const char* name) noexcept {
  return std::strcmp(ec.category().name(), name) == 0;
}

// True when `ec` is the OS error `errno_value` / `std_value`. Asio 1.22 reports OS errors in its own
// "asio.system" category, whose default_error_condition() is compiled out (it hides behind
// ASIO_HAS_STD_ERROR_CODE, which nothing defines), so those codes never compare equal to std::errc values:
// compare their value (an errno) instead. std's system and generic categories go through std::errc.
bool is_os_error(const std::error_code& ec, int errno_value, std::errc std_value) noexcept {
  if (in_asio_category(ec, asio_codes::system_category)) return ec.value() == errno_value;
  return ec == std_value;
}

bool lost_connection(const std::error_code& ec) noexcept {
  if (in_asio_category(ec, asio_codes::misc_category)) return ec.value() == asio_codes::misc_eof;
  // A TLS peer that closes without close_notify: the TLS form of a truncated response.
  if (in_asio_category(ec, asio_codes::ssl_stream_category))
    return ec.value() == asio_codes::ssl_stream_truncated;
  return is_os_error(ec, ECONNRESET, std::errc::connection_reset) ||
         is_os_error(ec, EPIPE, std::errc::broken_pipe) ||
         is_os_error(ec, ECONNABORTED, std::errc::connection_aborted);
}

bool failed_to_connect(const std::error_code& ec) noexcept {
  if (in_asio_category(ec, asio_codes::netdb_category)) {
    const int v = ec.value();
    return v == asio_codes::netdb_host_not_found || v == asio_codes::netdb_try_again ||
           v == asio_codes::netdb_no_data;
  }
  return is_os_error(ec, ECONNREFUSED, std::errc::connection_refused) ||
         is_os_error(ec, EHOSTUNREACH, std::errc::host_unreachable) ||
         is_os_error(ec, ENETUNREACH, std::errc::network_unreachable);
}

// Asio/system codes that belong to a condition. sentinel's own codes are handled by condition_of().
bool foreign_matches(const std::error_code& ec, condition c) noexcept {
  switch (c) {
    case condition::timeout:
      return is_os_error(ec, ETIMEDOUT, std::errc::timed_out);
    case condition::connection_lost:
      return lost_connection(ec);
    case condition::connect_failed:
      return failed_to_connect(ec);
    case condition::tls:
      return in_asio_category(ec, asio_codes::ssl_category);
    case condition::cancelled:
      return is_os_error(ec, ECANCELED, std::errc::operation_canceled);
    case condition::protocol:
    case condition::limit_exceeded:
    case condition::usage:
      return false;
  }
  return false;
}

class condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sentinel.condition"; }

  std::string message(int ev) const override {
    switch (static_cast<condition>(ev)) {
      case condition::timeout:
        return "timed out";
      case condition::connection_lost:
        return "connection lost";
      case condition::connect_failed:
        return "could not connect";
      case condition::protocol:
        return "HTTP protocol violation by the peer";
      case condition::limit_exceeded:
        return "a configured limit was exceeded";
      case condition::tls:
        return "TLS failure";
      case condition::cancelled:
        return "operation cancelled";
      case condition::usage:
        return "invalid use (bad URL or request, or pool stopped)";
    }
    return "unknown sentinel condition " + std::to_string(ev);
  }

  bool equivalent(const std::error_code& ec, int cond) const noexcept override {
    // Qualified: inside a std::error_category subclass `error_category` names the base class.
    if (same_category(ec.category(), sentinel::error_category()))
      return cond != 0 && condition_of(static_cast<error>(ec.value())) == cond;
    return foreign_matches(ec, static_cast<condition>(cond));
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

const std::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

const char* to_string(error e) noexcept {
  const int v = static_cast<int>(e);
  if (v > 0 && v < error_count) return error_table[v].name;
  return "unknown";
}

}  // namespace sentinel
