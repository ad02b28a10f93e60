// sentinel: the byte classes and small grammar pieces of RFC 9110/9112 that the response parser uses.
// Header-only and allocation-free; private to src/http1.
#pragma once

#include "wire/chars.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sentinel::http1::syntax {

// ---- byte classes ---------------------------------------------------------------------------------------
// (tchar, the token class, is chars::is_tchar.)
inline constexpr std::uint8_t k_text = 2;  // HTAB / SP / VCHAR / obs-text: field values (RFC 9110 §5.5),
                                           // the reason phrase (RFC 9112 §4), quoted-string content

constexpr std::array<std::uint8_t, 256> make_classes() noexcept {
  std::array<std::uint8_t, 256> t{};
  t[0x09] = t[0x20] = k_text;
  for (int c = 0x21; c <= 0x7e; ++c)
    t[c] = k_text;
  for (int c = 0x80; c <= 0xff; ++c)
    t[c] = k_text;  // obs-text: opaque, allowed
  return t;
}
inline constexpr std::array<std::uint8_t, 256> k_classes = make_classes();

using detail::chars::hex_value;
using detail::chars::is_ows;
using detail::chars::is_tchar;
using detail::chars::to_lower;
inline bool is_text(char c) noexcept {
  return (k_classes[static_cast<unsigned char>(c)] & k_text) != 0;
}

// True when every byte of [p, end) may appear in a field value. NUL, CR, LF and the other CTLs (but HTAB)
// are refused (RFC 9110 §5.5; RFC 9112 §2.2 for a bare CR): a recipient that lets a bare CR through can be
// fooled about where lines end.
inline bool all_text(const char* p, const char* end) noexcept {
  for (; p != end; ++p)
    if (!is_text(*p)) return false;
  return true;
}

inline const char* skip_ows(const char* p, const char* end) noexcept {
  while (p != end && is_ows(*p))
    ++p;
  return p;
}

inline const char* skip_token(const char* p, const char* end) noexcept {
  while (p != end && is_tchar(*p))
    ++p;
  return p;
}

inline std::string_view trim_ows(const char* b, const char* e) noexcept {
  b = skip_ows(b, e);
  while (e != b && is_ows(e[-1]))
    --e;
  return {b, static_cast<std::size_t>(e - b)};
}

// ASCII case-insensitive comparison against a lower-case literal: field names (RFC 9110 §5.1), connection
// options (RFC 9110 §7.6.1) and transfer codings (RFC 9112 §7) are case-insensitive.
inline bool iequals_lower(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (to_lower(s[i]) != lower[i]) return false;
  return true;
}

// Calls f(element) for each element of a comma-separated list, trimmed of OWS; empty elements included
// (RFC 9110 §5.6.1: the caller decides whether they are ignored).
template <class F>
void for_each_element(std::string_view v, F&& f) {
  for (;;) {
    const std::size_t comma = v.find(',');
    const std::string_view e = v.substr(0, comma);
    f(trim_ows(e.data(), e.data() + e.size()));
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E /
// obs-text, quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) (RFC 9110 §5.6.4). `p` is at the opening
// DQUOTE. Returns the position after the closing DQUOTE, or nullptr when the string is unbalanced or holds a
// byte it may not (a CTL, a bare CR).
inline const char* skip_quoted_string(const char* p, const char* end) noexcept {
  for (++p; p != end; ++p) {
    if (*p == '"') return p + 1;
    if (*p == '\\' && ++p == end) return nullptr;
    if (!is_text(*p)) return nullptr;  // is_text covers qdtext and the quoted-pair's second byte
  }
  return nullptr;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), chunk-ext-name = token,
// chunk-ext-val = token / quoted-string (RFC 9112 §7.1.1; BWS is OWS, RFC 9110 §5.6.3). True when all of
// [p, end) is a chunk-ext. Whitespace is only allowed where BWS is: a line that ends in whitespace, or has
// it between a chunk-size and anything but ";", does not match.
inline bool is_chunk_ext(const char* p, const char* end) noexcept {
  while (p != end) {
    p = skip_ows(p, end);
    if (p == end || *p != ';') return false;
    const char* const name = skip_ows(p + 1, end);
    p = skip_token(name, end);
    if (p == name) return false;  // an empty name: ";" alone, ";=v", "; ;"
    const char* const eq = skip_ows(p, end);
    if (eq == end || *eq != '=') continue;  // a name without a value
    const char* const value = skip_ows(eq + 1, end);
    if (value != end && *value == '"') {
      p = skip_quoted_string(value, end);
      if (p == nullptr) return false;
    } else {
      p = skip_token(value, end);
      if (p == value) return false;  // "a=" with nothing after it
    }
  }
  return true;
}

}  // namespace sentinel::http1::syntax
