// sentinel: proxy configuration and routing. See proxy.hpp.
#include "client/proxy.hpp"

#include "wire/chars.hpp"

#include <sentinel/error.hpp>
#include <sentinel/headers.hpp>

#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>

namespace sentinel::detail {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// "proxy:3128" is common in the environment: a proxy URL without a scheme means http://.
std::error_code parse_proxy(std::string text, std::optional<proxy_endpoint>& out) {
  if (text.empty()) return {};
  if (text.find("://") == std::string::npos) text = "http://" + text;
  std::error_code ec;
  url u = url::parse(text, ec);
  if (ec) return make_error_code(error::invalid_url);
  if (u.is_https()) return make_error_code(error::unsupported_scheme);  // HTTPS proxies: not supported yet
  proxy_endpoint p;
  if (!u.userinfo().empty()) p.authorization = "Basic " + base64(percent_decode(u.userinfo()));
  p.key = "proxy " + u.origin();
  p.address = std::move(u);
  out = std::move(p);
  return {};
}

}  // namespace

proxy_config::proxy_config(const proxy_options& opts) {
  std::string http = opts.http_proxy, https = opts.https_proxy, no_proxy = opts.no_proxy;
  if (opts.from_environment) {
    if (http.empty()) http = env("http_proxy");
    if (https.empty()) https = env("https_proxy");
    if (https.empty()) https = env("HTTPS_PROXY");
    if (no_proxy.empty()) no_proxy = env("no_proxy");
    if (no_proxy.empty()) no_proxy = env("NO_PROXY");
  }
  http_error_ = parse_proxy(http, http_);
  https_error_ = parse_proxy(https, https_);
  std::string_view list = no_proxy;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
      item.remove_suffix(1);
    if (item == "*") {
      no_proxy_all_ = true;
      continue;
    }
    // Bracketed IPv6, or host[:port]: the port is ignored, as curl does.
    if (!item.empty() && item.front() == '[') {
      item = item.substr(1, item.find(']') - 1);
    } else if (item.find(':') == item.rfind(':')) {
      item = item.substr(0, item.find(':'));
    }
    while (!item.empty() && item.front() == '.')
      item.remove_prefix(1);
    if (item.empty()) continue;
    std::string lower(item);
    for (char& c : lower)
      c = detail::chars::to_lower(c);  // ASCII: host names, locale-free
    no_proxy_.push_back(std::move(lower));
  }
}

bool proxy_config::bypass(const url& target) const {
  if (no_proxy_all_) return true;
  const std::string_view host = target.host();  // lower-cased already
  for (const std::string& entry : no_proxy_) {
    if (host == entry) return true;
    // A domain matches its subdomains: "example.com" matches "api.example.com", not "badexample.com".
    if (!target.host_is_ip() && host.size() > entry.size() && host.ends_with(entry) &&
        host[host.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

const proxy_endpoint* proxy_config::for_target(const url& target, std::error_code& ec) const {
  const bool https = target.is_https();
  const auto& proxy = https ? https_ : http_;
  const auto& err = https ? https_error_ : http_error_;
  if (!proxy && !err) return nullptr;
  if (bypass(target)) return nullptr;
  if (err) {
    ec = err;
    return nullptr;
  }
  return &*proxy;
}

}  // namespace sentinel::detail
