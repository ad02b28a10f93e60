// sentinel: choosing the route of a request: direct, or through an HTTP proxy (forward or CONNECT).
#pragma once

#include <sentinel/options.hpp>
#include <sentinel/url.hpp>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace sentinel::detail {

/// One configured proxy, ready to use.
struct proxy_endpoint {
  url address;                // http://host:port of the proxy
  std::string authorization;  // "Basic ..." from the URL's userinfo, or empty
  std::string key;            // pool key part: "proxy http://host:port"
};

/// The proxies of one client, parsed once when it is created.
class proxy_config {
 public:
  /// Parses `opts` (and the environment when asked). An invalid proxy URL is kept as an error that every
  /// request which would use that proxy fails with (error::invalid_url).
  explicit proxy_config(const proxy_options& opts);

  /// The proxy for `target`, or nullptr for a direct connection. Sets `ec` when the proxy is misconfigured.
  const proxy_endpoint* for_target(const url& target, std::error_code& ec) const;

 private:
  bool bypass(const url& target) const;

  std::optional<proxy_endpoint> http_, https_;
  std::error_code http_error_, https_error_;
  std::vector<std::string> no_proxy_;  // lower-cased, without leading dots or ports
  bool no_proxy_all_ = false;
};

}  // namespace sentinel::detail
