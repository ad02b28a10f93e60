// sentinel: the ASCII character classes and helpers that URL, header, parser, serializer, decoder and
// proxy code share (RFC 3986 §2, RFC 9110 §5.6). Wire code: header-only, no allocation, no locale
// (std::tolower depends on it; HTTP's case-insensitivity is ASCII only).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sentinel::detail::chars {

constexpr bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
/// The value of a hex digit, or -1.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr bool is_hex(char c) noexcept {
  return hex_value(c) >= 0;
}
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}
/// ASCII case-insensitive equality (field names, schemes, codings, host names).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

/// OWS = *( SP / HTAB ) (RFC 9110 §5.6.3).
constexpr bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}
constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back()))
    s.remove_suffix(1);
  return s;
}

/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" /
/// DIGIT / ALPHA (RFC 9110 §5.6.2).
inline constexpr std::array<bool, 256> tchar_table = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] = is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c));
  for (char c : std::string_view("!#$%&'*+-.^_`|~"))
    t[static_cast<unsigned char>(c)] = true;
  return t;
}();
constexpr bool is_tchar(char c) noexcept {
  return tchar_table[static_cast<unsigned char>(c)];
}
/// A non-empty token (methods, field names, codings).
constexpr bool is_token(std::string_view s) noexcept {
  for (char c : s)
    if (!is_tchar(c)) return false;
  return !s.empty();
}

}  // namespace sentinel::detail::chars
