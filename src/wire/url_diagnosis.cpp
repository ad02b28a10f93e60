// sentinel: what is wrong with a URL, in words. See url_diagnosis.hpp.
#include "wire/url_diagnosis.hpp"

#include <sentinel/error.hpp>

#include "wire/chars.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace sentinel {
namespace detail {
namespace {

constexpr std::size_t max_quoted = 64;  // a 2 MB URL must not make a 2 MB message

// `"part"`, with bytes that are not printable ASCII as \xNN and a long part cut short with "...".
std::string quote(std::string_view part) {
  std::string out = "\"";
  for (std::size_t i = 0; i < part.size() && i < max_quoted; ++i) {
    const auto c = static_cast<unsigned char>(part[i]);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (part.size() > max_quoted) out += "...";
  return out + '"';
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return chars::is_digit(c); });
}

std::string scheme_message(std::string_view text, std::string_view scheme) {
  std::string m = "unsupported URL scheme " + quote(scheme) + " (only http and https are supported)";
  // "localhost:8080" reads as scheme "localhost": say what was probably meant.
  const std::string_view rest = text.substr(scheme.size() + 1);
  if (all_digits(rest.substr(0, rest.find('/'))))
    m += "; for a host and port, write " + quote("http://" + std::string(text.substr(0, 64)));
  return m;
}

std::string host_message(std::string_view text, std::string_view host) {
  if (host.empty()) {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.substr(colon + 1, 2) != "//")
      return "the URL has no host: " + quote(text.substr(0, colon + 1)) + " must be followed by \"//host\"";
    return "the URL has no host";
  }
  if (host.starts_with('[')) {
    if (host.find(']') == std::string_view::npos)
      return "the IPv6 address " + quote(host) + " has no closing ']'";
    if (!host.ends_with(']'))
      return "unexpected " + quote(host.substr(host.find(']') + 1)) +
             " after the IPv6 address (a port is \":N\")";
    if (host.find('%') != std::string_view::npos)
      return "the IPv6 address " + quote(host) + " has a zone id, which a URL cannot use";
    return quote(host) + " is not a valid IPv6 address";
  }
  return "the host " + quote(host) + " ends in a number but is not an IPv4 address (four numbers 0-255)";
}

std::string port_message(std::string_view port) {
  if (all_digits(port)) return "the port " + quote(port) + " is out of range (1-65535)";
  return "the port " + quote(port) + " is not a number";
}

const char* component_name(url_component where) noexcept {
  switch (where) {
    case url_component::userinfo:
      return "user info";
    case url_component::host:
      return "host";
    case url_component::path:
      return "path";
    case url_component::query:
      return "query";
    case url_component::fragment:
      return "fragment";
  }
  return "URL";
}

}  // namespace

void diagnose_url(url_diagnosis& why, url_problem problem, std::string_view text, std::string_view part) {
  why.problem = problem;
  why.offset = part.data() != nullptr ? static_cast<std::size_t>(part.data() - text.data()) : 0;
  why.length = part.size();
  switch (problem) {
    case url_problem::relative_reference:
      why.message = text.empty() ? "the URL is empty"
                                 : quote(text) + " is not an absolute URL (it needs http:// or https://)";
      break;
    case url_problem::bad_scheme:
      why.message =
          "the scheme " + quote(part) + " is not valid (a letter, then letters, digits, '+', '-', '.')";
      break;
    case url_problem::unsupported_scheme:
      why.message = scheme_message(text, part);
      break;
    case url_problem::bad_host:
      why.message = host_message(text, part);
      break;
    case url_problem::bad_port:
      why.message = port_message(part);
      break;
    case url_problem::illegal_byte:
    case url_problem::none:
      why.message = "the URL is not valid";
      break;
  }
}

void diagnose_url_byte(url_diagnosis& why, std::string_view text, std::string_view part, std::size_t i,
                       url_component where) {
  why.problem = url_problem::illegal_byte;
  why.offset = static_cast<std::size_t>(part.data() - text.data()) + i;
  why.length = 1;
  const auto c = static_cast<unsigned char>(part[i]);
  char byte[40];
  if (c == '%')
    std::snprintf(byte, sizeof byte, "a '%%' that does not start a %%XX escape");
  else if (c == ' ')
    std::snprintf(byte, sizeof byte, "a space");
  else if (c < 0x20 || c == 0x7F)
    std::snprintf(byte, sizeof byte, "the control byte 0x%02X", c);
  else if (c > 0x7F)
    std::snprintf(byte, sizeof byte, "the non-ASCII byte 0x%02X", c);
  else
    std::snprintf(byte, sizeof byte, "'%c'", c);
  why.message = byte;
  why.message += " is not allowed in the ";
  why.message += component_name(where);
  // The user info may hold a password: never quoted.
  if (where != url_component::userinfo) why.message += " " + quote(part);
  if (c == '%')
    why.message += " (write a literal '%' as %25)";
  else if (where != url_component::host && where != url_component::userinfo)
    why.message += " (percent-encode it)";
}

}  // namespace detail

// ---- url_error ------------------------------------------------------------------------------------------

struct url_error::state {
  url_diagnosis why;
  std::string what;
};

url_error::url_error(std::error_code ec, url_diagnosis why) : std::system_error(ec) {
  std::string what = "invalid URL: " + (why.message.empty() ? ec.message() : why.message);
  state_ = std::make_shared<const state>(state{std::move(why), std::move(what)});
}

const url_diagnosis& url_error::diagnosis() const noexcept {
  return state_->why;
}

const char* url_error::what() const noexcept {
  return state_->what.c_str();
}

}  // namespace sentinel
