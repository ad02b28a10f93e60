// sentinel: HTTP/1.1 request head writer (RFC 9112 §3, §5).
#include "wire/http1/serializer.hpp"

#include "wire/chars.hpp"
#include "wire/request_check.hpp"

#include <sentinel/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace sentinel::http1 {
namespace {

using detail::content_length_matches;
using detail::is_request_target;

bool body_expected(std::string_view method) noexcept {
  // RFC 9110 §8.6: a user agent SHOULD send Content-Length when the method defines a meaning for a body
  // (POST, PUT, PATCH) even if it is empty; some servers answer 411 otherwise.
  return method == "POST" || method == "PUT" || method == "PATCH";
}

void append(std::string& out, std::string_view s) {
  out.append(s.data(), s.size());
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  append(out, name);
  out += ':';
  if (!value.empty()) {
    out += ' ';
    append(out, value);
  }
  append(out, "\r\n");
}

// host [":" port], host bracketed when it is an IPv6 literal; the port only when it is not the default.
void append_port(std::string& out, std::uint16_t port) {
  char buf[8];
  const auto r = std::to_chars(buf, buf + sizeof buf, port);
  out += ':';
  out.append(buf, r.ptr);
}

void append_host(std::string& out, const url& u) {
  u.append_host(out);
  if (u.has_non_default_port()) append_port(out, u.port());
}

// host:port with the port always given (authority-form).
void append_authority(std::string& out, const url& u) {
  u.append_host(out);
  append_port(out, u.port());
}

constexpr std::size_t field_size(std::string_view name, std::string_view value) noexcept {
  return name.size() + 2 + value.size() + 2;  // "name: value\r\n" (an upper bound when value is empty)
}

}  // namespace

bool is_token(std::string_view s) noexcept {
  return detail::chars::is_token(s);
}

bool is_field_value(std::string_view s) noexcept {
  return detail::is_field_value(s);
}

namespace {

// What the request's own fields say (Pass 1 of serialize_head): their size, which of the fields the client
// would add they already set, and whether they are acceptable at all.
struct field_scan {
  std::size_t size = 0;
  bool host = false, user_agent = false, accept_encoding = false, content_length = false;
  bool ok = true;
};

field_scan scan_fields(const headers& fields, const head_extras& extras, std::uint64_t body_size) noexcept {
  field_scan s;
  for (const field_view f : fields) {
    if (!is_token(f.name) || !is_field_value(f.value)) s.ok = false;
    s.size += field_size(f.name, f.value);
    if (iequals(f.name, "Host")) {
      s.host = true;
    } else if (iequals(f.name, "User-Agent")) {
      s.user_agent = true;
    } else if (iequals(f.name, "Accept-Encoding")) {
      s.accept_encoding = true;
    } else if (iequals(f.name, "Content-Length")) {
      if (s.content_length || extras.chunked || !content_length_matches(f.value, body_size)) s.ok = false;
      s.content_length = true;
    } else if (iequals(f.name, "Transfer-Encoding")) {
      s.ok = false;  // the body would be framed differently from what we send
    }
    if (!s.ok) return s;
  }
  return s;
}

}  // namespace

std::error_code serialize_head(const request_head& req, const head_extras& extras, std::string& out) {
  const url& u = req.target;
  if (u.empty()) return error::invalid_url;
  const std::string_view method = req.method;
  const std::string_view target = u.target();
  if (!is_token(method) || !is_request_target(target)) return error::invalid_request;

  const std::uint64_t body_size = extras.body_length.value_or(req.body_size);

  // Pass 1: validate everything and measure, so that a refusal leaves `out` untouched and a success grows
  // it at most once.
  const std::size_t host_size = u.host().size() + 2 + 6;  // brackets, ":65535"
  std::size_t size = method.size() + 1 + std::max(target.size(), host_size) + 1 + 8 + 2;
  if (extras.absolute_form) size += u.scheme().size() + 3 + host_size;
  const field_scan own = scan_fields(req.fields, extras, body_size);
  if (!own.ok) return error::invalid_request;
  size += own.size;
  const bool has_host = own.host, has_user_agent = own.user_agent, has_accept_encoding = own.accept_encoding,
             has_content_length = own.content_length;
  if (!has_host) size += field_size("Host", {}) + host_size;
  const bool add_user_agent = !has_user_agent && !extras.user_agent.empty();
  const bool add_accept_encoding = !has_accept_encoding && !extras.accept_encoding.empty();
  const bool add_proxy_auth = !extras.proxy_authorization.empty();
  if ((add_user_agent && !is_field_value(extras.user_agent)) ||
      (add_accept_encoding && !is_field_value(extras.accept_encoding)) ||
      (add_proxy_auth && !is_field_value(extras.proxy_authorization)))
    return error::invalid_request;
  if (add_user_agent) size += field_size("User-Agent", extras.user_agent);
  if (add_accept_encoding) size += field_size("Accept-Encoding", extras.accept_encoding);
  if (add_proxy_auth) size += field_size("Proxy-Authorization", extras.proxy_authorization);

  char length_buf[24];
  std::string_view length;
  if (extras.chunked) {
    size += field_size("Transfer-Encoding", "chunked");
  } else if (!has_content_length && (body_size > 0 || body_expected(method))) {
    const auto r = std::to_chars(length_buf, length_buf + sizeof length_buf, body_size);
    length = std::string_view(length_buf, static_cast<std::size_t>(r.ptr - length_buf));
    size += field_size("Content-Length", length);
  }
  if (extras.expect_continue) size += field_size("Expect", "100-continue");
  size += 2;

  // Pass 2: write. Nothing below can fail except by bad_alloc in reserve().
  out.reserve(out.size() + size);
  append(out, method);
  out += ' ';
  if (extras.absolute_form) {  // RFC 9112 §3.2.2, without userinfo (RFC 9110 §4.2.4)
    append(out, u.scheme());
    append(out, "://");
    append_host(out, u);
  }
  if (extras.authority_form)  // RFC 9110 §9.3.6: CONNECT names host and port, the port always
    append_authority(out, u);
  else
    append(out, target);
  append(out, " HTTP/1.1\r\n");
  if (!has_host) {  // RFC 9112 §3.2: Host is required, and goes first
    append(out, "Host: ");
    if (extras.authority_form)
      append_authority(out, u);
    else
      append_host(out, u);
    append(out, "\r\n");
  }
  for (const field_view f : req.fields)
    append_field(out, f.name, f.value);
  if (add_user_agent) append_field(out, "User-Agent", extras.user_agent);
  if (add_accept_encoding) append_field(out, "Accept-Encoding", extras.accept_encoding);
  if (add_proxy_auth) append_field(out, "Proxy-Authorization", extras.proxy_authorization);
  if (!length.empty()) append_field(out, "Content-Length", length);
  if (extras.chunked) append_field(out, "Transfer-Encoding", "chunked");
  if (extras.expect_continue) append_field(out, "Expect", "100-continue");
  append(out, "\r\n");
  return {};
}

}  // namespace sentinel::http1
