// sentinel: request members that are not inline.
#include <sentinel/error.hpp>
#include <sentinel/request.hpp>

namespace sentinel {

request::request(std::string_view method, std::string_view url_text, sentinel::headers fields,
                 std::string body)
    : method_(method), url_(url_text), headers_(std::move(fields)), body_(std::move(body)) {}

std::error_code request::set_url(std::string_view text) {
  std::error_code ec;
  sentinel::url parsed = sentinel::url::parse(text, ec);
  if (!ec) url_ = std::move(parsed);
  return ec;
}

bool request::is_idempotent() const noexcept {
  // RFC 9110 §9.2.2. Method names are case-sensitive (§9.1): "get" is an unknown method, not GET.
  static constexpr std::string_view idempotent[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
  for (const std::string_view m : idempotent)
    if (method_ == m) return true;
  return false;
}

}  // namespace sentinel
