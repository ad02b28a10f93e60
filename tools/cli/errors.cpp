// sentinel CLI: error codes to curl's exit codes, in one table.
#include "errors.hpp"

#include <sentinel/error.hpp>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include <cstdio>
#include <cstring>

namespace sentinel::cli {
namespace {

bool in_category(const std::error_code& ec, const std::error_category& cat) noexcept {
  return ec.category() == cat || std::strcmp(ec.category().name(), cat.name()) == 0;
}

// sentinel's own codes, one by one (a switch without default: a new enumerator makes the compiler warn).
int exit_code_for_sentinel(error e) noexcept {
  switch (e) {
    case error::invalid_url:
      return exit_code::bad_url;
    case error::unsupported_scheme:
      return exit_code::unsupported_protocol;
    case error::invalid_request:
      return exit_code::usage;  // illegal bytes in -X or -H: a bad command line
    case error::pool_stopped:
    case error::internal:
      return exit_code::internal;
    case error::aborted_by_callback:
      return exit_code::aborted;
    case error::callback_threw:
      return exit_code::write_error;  // the tool's own output callbacks threw: curl's failed write
    case error::bad_status_line:
    case error::bad_header:
    case error::bad_content_length:
    case error::multiple_content_length:
    case error::bad_transfer_encoding:
    case error::unexpected_response:
    case error::body_length_mismatch:
      return exit_code::weird_reply;
    case error::bad_chunk:
    case error::chunk_line_too_long:
    case error::proxy_error:
      return exit_code::recv_error;
    case error::unexpected_eof:
      return exit_code::partial;
    case error::empty_reply:
      return exit_code::empty_reply;
    case error::stream_refused:
    case error::stream_reset:
      return exit_code::http2_stream;
    case error::frame_flood:
    case error::http2_protocol_error:
      return exit_code::http2;
    case error::bad_redirect:
      return exit_code::bad_url;  // curl: a Location it cannot parse is a malformed URL
    case error::bad_content_encoding:
    case error::unsupported_content_encoding:
      return exit_code::bad_content_encoding;
    case error::header_too_large:
    case error::header_line_too_long:
    case error::too_many_headers:
      return exit_code::head_too_large;
    case error::body_too_large:
    case error::decoded_too_large:
      return exit_code::too_large;
    case error::too_many_redirects:
      return exit_code::too_many_redirects;
    case error::pool_timeout:
    case error::resolve_timeout:
    case error::connect_timeout:
    case error::response_timeout:
    case error::idle_timeout:
    case error::request_timeout:
      return exit_code::timeout;
    case error::tls_handshake_failed:
    case error::alpn_mismatch:
      return exit_code::tls_handshake;
    case error::certificate_expired:
    case error::certificate_not_yet_valid:
    case error::certificate_untrusted:
    case error::certificate_self_signed:
    case error::certificate_host_mismatch:
    case error::certificate_invalid:
      return exit_code::certificate;
  }
  return exit_code::other;
}

}  // namespace

int exit_code_for(const std::error_code& ec) noexcept {
  if (!ec) return exit_code::ok;
  if (in_category(ec, sentinel::error_category()))
    return exit_code_for_sentinel(static_cast<error>(ec.value()));
  // Name resolution.
  if (in_category(ec, asio::error::get_netdb_category())) return exit_code::resolve;
  // The library's two generic codes that are not about files: the HTTP/2 session's own failures.
  if (ec == std::errc::protocol_error) return exit_code::http2;
  if (ec == std::errc::not_enough_memory) return exit_code::out_of_memory;
  // A request body file that could not be opened: the library reports it in std::system_category.
  if (in_category(ec, std::system_category()) || in_category(ec, std::generic_category()))
    return exit_code::read_error;
  if (ec == asio::error::broken_pipe) return exit_code::send_error;
  if (ec == condition::cancelled) return exit_code::aborted;
  if (ec == condition::timeout) return exit_code::timeout;
  if (ec == condition::connect_failed) return exit_code::connect;
  if (ec == condition::connection_lost) return exit_code::recv_error;
  if (ec == condition::tls) return exit_code::tls_handshake;
  return exit_code::other;
}

std::string_view exit_code_summary(int code) noexcept {
  switch (code) {
    case exit_code::ok:
      return "";
    case exit_code::other:
      return "unsupported protocol or other failure";
    case exit_code::usage:
      return "bad command line";
    case exit_code::bad_url:
      return "malformed URL";
    case exit_code::resolve:
      return "could not resolve host";
    case exit_code::connect:
      return "failed to connect";
    case exit_code::weird_reply:
      return "invalid HTTP response";
    case exit_code::partial:
      return "transfer closed with data outstanding";
    case exit_code::http_error:
      return "HTTP error";
    case exit_code::write_error:
      return "failure writing output";
    case exit_code::read_error:
      return "failure reading a local file";
    case exit_code::out_of_memory:
      return "out of memory";
    case exit_code::timeout:
      return "operation timed out";
    case exit_code::tls_handshake:
      return "TLS handshake failed";
    case exit_code::aborted:
      return "aborted";
    case exit_code::internal:
      return "internal error";
    case exit_code::too_many_redirects:
      return "too many redirects";
    case exit_code::empty_reply:
      return "empty reply from server";
    case exit_code::send_error:
      return "failure sending data";
    case exit_code::recv_error:
      return "failure receiving data";
    case exit_code::http2:
      return "HTTP/2 framing layer error";
    case exit_code::http2_stream:
      return "HTTP/2 stream error";
    case exit_code::certificate:
      return "server certificate verification failed";
    case exit_code::bad_content_encoding:
      return "bad content encoding";
    case exit_code::too_large:
      return "maximum size exceeded";
    case exit_code::cacert_file:
      return "cannot read the CA certificates";
    case exit_code::head_too_large:
      return "response head too large";
    default:
      return "failure";
  }
}

std::string error_kind(const std::error_code& ec) {
  if (!ec) return "none";
  if (in_category(ec, sentinel::error_category())) return to_string(static_cast<error>(ec.value()));
  if (in_category(ec, asio::error::get_netdb_category())) return "host_not_found";
  if (ec == asio::ssl::error::stream_truncated) return "tls_truncated";
  if (in_category(ec, asio::error::get_ssl_category())) return "tls";
  struct known {
    std::error_code code;
    const char* name;
  };
  const known names[] = {
      {asio::error::connection_refused, "connection_refused"},
      {asio::error::connection_reset, "connection_reset"},
      {asio::error::connection_aborted, "connection_aborted"},
      {asio::error::broken_pipe, "broken_pipe"},
      {asio::error::eof, "eof"},
      {asio::error::timed_out, "timed_out"},
      {asio::error::host_unreachable, "host_unreachable"},
      {asio::error::network_unreachable, "network_unreachable"},
      {asio::error::operation_aborted, "cancelled"},
      {asio::error::no_descriptors, "too_many_open_files"},
  };
  for (const auto& k : names)
    if (ec == k.code) return k.name;
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

int http2_not_built(const char* program) {
  std::fprintf(stderr, "%s: (%d) HTTP/2 is not built into this sentinel (meson feature http2)\n", program,
               exit_code::not_built_in);
  return exit_code::not_built_in;
}

}  // namespace sentinel::cli
