// sentinel: the rules of a request head. See request_check.hpp.
#include "wire/request_check.hpp"

#include "wire/chars.hpp"

#include <sentinel/error.hpp>

#include <charconv>

namespace sentinel::detail {

bool is_request_target(std::string_view s) noexcept {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F) return false;
  }
  return !s.empty();
}

bool is_field_value(std::string_view s) noexcept {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && b != '\t') || b == 0x7F) return false;
  }
  return true;
}

bool content_length_matches(std::string_view v, std::uint64_t body_size) noexcept {
  // Two fields count as the list "n, n", which the grammar does not allow either: the callers refuse a
  // second one.
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  if (v.empty()) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  std::uint64_t n = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  return r.ec == std::errc() && n == body_size;
}

std::error_code check_request_head(std::string_view method, const url& target, const headers& fields,
                                   std::uint64_t body_size, bool length_unknown,
                                   std::initializer_list<added_field> added) noexcept {
  if (target.empty()) return error::invalid_url;
  if (!chars::is_token(method) || !is_request_target(target.target())) return error::invalid_request;
  bool content_length = false;
  for (const field_view f : fields) {
    if (!chars::is_token(f.name) || !is_field_value(f.value)) return error::invalid_request;
    if (chars::iequals(f.name, "Content-Length")) {
      if (content_length || length_unknown || !content_length_matches(f.value, body_size))
        return error::invalid_request;
      content_length = true;
    } else if (chars::iequals(f.name, "Transfer-Encoding")) {
      return error::invalid_request;  // the body would be framed differently from what we send
    }
  }
  for (const added_field& a : added) {
    if (a.value.empty() || (a.unless_present && fields.contains(a.name))) continue;
    if (!is_field_value(a.value)) return error::invalid_request;
  }
  return {};
}

}  // namespace sentinel::detail
