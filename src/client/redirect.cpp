// sentinel: following redirects. See redirect.hpp.
#include "client/redirect.hpp"

#include <sentinel/error.hpp>

namespace sentinel::detail {

bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::error_code follow_redirect(request& req, const response& res) {
  const auto location = res.headers().get("Location");
  std::error_code ec;
  url next = req.url().resolve(location.value_or(std::string_view{}), ec);
  if (ec) return make_error_code(error::bad_redirect);
  const int status = res.status();
  const bool to_get = (status == 303 && req.method() != "HEAD") ||
                      ((status == 301 || status == 302) && req.method() == "POST");
  if (to_get) {
    // The body does not follow a method change, nor do the fields that described it.
    req.set_method("GET");
    req.clear_body();
    for (const char* name : {"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"})
      req.headers().erase(name);
  }
  if (next.origin() != req.url().origin()) {
    // Credentials are for the origin that asked for them, not for wherever it redirects us.
    for (const char* name : {"Authorization", "Cookie", "Proxy-Authorization", "Host"})
      req.headers().erase(name);
  }
  req.set_url(std::move(next));
  return {};
}

}  // namespace sentinel::detail
