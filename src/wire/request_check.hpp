// sentinel: the rules every request head must meet before any protocol sends it, in no protocol's terms.
//
// A request that breaks them (CR, LF or NUL in a field, a method that is not a token, a Content-Length
// that disagrees with the body, a Transfer-Encoding of the user's) is refused with invalid_request before
// a connection is opened for it, whatever protocol the connection will speak. The HTTP/1 serializer applies
// the same rules through the same helpers as it writes (wire/http1/serializer.cpp).
#pragma once

#include <sentinel/headers.hpp>
#include <sentinel/url.hpp>

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <system_error>

namespace sentinel::detail {

/// The request-target is delimited by SP (RFC 9112 §3), so it must not contain one, nor any control or
/// non-ASCII byte. url guarantees this already; checking again keeps each writer safe on its own.
bool is_request_target(std::string_view s) noexcept;
/// RFC 9110 §5.5: field-vchar = VCHAR / obs-text, with SP and HTAB inside. Bare CR, LF and NUL are the
/// request-splitting bytes; other controls are refused too (recipients may treat them the same way).
bool is_field_value(std::string_view s) noexcept;
/// RFC 9110 §8.6: Content-Length = 1*DIGIT (with optional whitespace around), equal to `body_size`.
bool content_length_matches(std::string_view v, std::uint64_t body_size) noexcept;

/// A field the client adds to the request's own.
struct added_field {
  std::string_view name;
  std::string_view value;      // empty: not added
  bool unless_present = true;  // not added when the request has a field of this name
};

/// Checks a request head: invalid_url for an empty URL, invalid_request for a method that is not a
/// token, a bad target, a field whose name is not a token or whose value is not a field value, a
/// Content-Length given twice or disagreeing with `body_size` (or given for a body of unknown length),
/// any Transfer-Encoding, or an added field whose value is not a field value.
std::error_code check_request_head(std::string_view method, const url& target, const headers& fields,
                                   std::uint64_t body_size, bool length_unknown,
                                   std::initializer_list<added_field> added) noexcept;

}  // namespace sentinel::detail
