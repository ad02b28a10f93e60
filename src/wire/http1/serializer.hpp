// sentinel: HTTP/1.1 request head writer. Wire code: no Asio, no sockets.
#pragma once

#include <sentinel/headers.hpp>
#include <sentinel/url.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel::http1 {

/// Extra fields the client contributes to every request head.
struct head_extras {
  std::string_view user_agent;           // added unless the request has User-Agent; empty: none
  std::string_view accept_encoding;      // added unless the request has Accept-Encoding; empty: none
  bool absolute_form = false;            // request-target in absolute form (for an HTTP forward proxy)
  bool authority_form = false;           // request-target "host:port", and Host the same (CONNECT)
  std::string_view proxy_authorization;  // added as Proxy-Authorization when not empty
  /// The body is not req.body(): it has this many bytes (a file, a source of known length).
  std::optional<std::uint64_t> body_length;
  /// The body is sent with the chunked transfer coding (a source of unknown length).
  bool chunked = false;
  /// Add `Expect: 100-continue`.
  bool expect_continue = false;
};

/// What the head of a request is made of. Views: the request they come from outlives the call. (Not
/// `request` itself: the wire layer knows nothing of bodies produced by coroutines.)
struct request_head {
  std::string_view method;
  const url& target;
  const headers& fields;
  std::uint64_t body_size = 0;  // the in-memory body's size (extras.body_length wins when set)
};

/// Appends the request head of `req` (request line, fields, empty line) to `out`.
///
/// Writes, in order: `METHOD SP target SP HTTP/1.1`, Host (from the URL, port only when not default)
/// unless the request sets Host, the request's own fields in order, User-Agent and Accept-Encoding from
/// `extras` unless set, and Content-Length: the body's size (extras.body_length when given, else
/// req.body().size()) when the body is not empty or the method is POST, PUT or PATCH, unless the request
/// sets Content-Length itself (it must then equal that size); or `Transfer-Encoding: chunked` instead
/// when extras.chunked. A Transfer-Encoding field set by the request is refused: the client frames bodies.
///
/// Refuses with error::invalid_request, leaving `out` as it was: a method that is not an RFC 9110 token;
/// a target or a header value containing CR, LF, NUL or another control byte but HTAB; a header name that
/// is not a token; a Content-Length that disagrees with the body; a Transfer-Encoding header.
/// An empty url() fails with error::invalid_url.
std::error_code serialize_head(const request_head& req, const head_extras& extras, std::string& out);

/// True when `s` is a non-empty RFC 9110 token (method names, header names).
bool is_token(std::string_view s) noexcept;
/// True when `s` may be a field value: no CR, LF, NUL or other controls but HTAB.
bool is_field_value(std::string_view s) noexcept;

}  // namespace sentinel::http1
