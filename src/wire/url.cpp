// sentinel: absolute http/https URL parsing and reference resolution (RFC 3986).
#include <sentinel/error.hpp>
#include <sentinel/headers.hpp>
#include <sentinel/url.hpp>

#include "wire/chars.hpp"
#include "wire/url_diagnosis.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace sentinel {
namespace {

using detail::chars::is_alpha;
using detail::chars::is_digit;
using detail::chars::is_hex;
using detail::chars::to_lower;

// RFC 3986 §2.3 and §2.2.
constexpr bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
constexpr bool is_sub_delim(char c) noexcept {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// True when s[i] is '%' followed by two hex digits (RFC 3986 §2.1).
bool is_pct_encoded_at(std::string_view s, std::size_t i) noexcept {
  return i + 2 < s.size() && s[i] == '%' && is_hex(s[i + 1]) && is_hex(s[i + 2]);
}

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool is_scheme(std::string_view s) noexcept {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (char c : s)
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  return true;
}

// Userinfo (RFC 3986 §3.2.1) or reg-name (§3.2.2): unreserved / pct-encoded / sub-delims, plus ':' for
// userinfo. Returns the index of the first byte that is not allowed, or npos.
std::size_t find_bad_authority_byte(std::string_view s, bool allow_colon) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_unreserved(c) || is_sub_delim(c) || (allow_colon && c == ':')) continue;
    if (c == '%' && is_pct_encoded_at(s, i)) {
      i += 2;
      continue;
    }
    return i;
  }
  return std::string_view::npos;
}

// Path, query and fragment. RFC 3986 allows fewer characters, but real servers put '"', '<', '|', '{',
// '^', '`' and friends unescaped in Location headers and links, and they are harmless on the wire. What we
// refuse is what could split or smuggle a request line (controls, space), what is not ASCII, and a '%'
// that does not start a pct-encoding (a later decoder would disagree with us about it).
// Returns the index of the first byte refused, or npos.
std::size_t find_bad_tail_byte(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c >= 0x7F) return i;
    if (c == '%') {
      if (!is_pct_encoded_at(s, i)) return i;
      i += 2;
    }
  }
  return std::string_view::npos;
}

// RFC 3986 §3.2.2 dec-octet forbids leading zeros; we refuse them rather than guess, because inet_aton()
// (and so getaddrinfo) reads "010" as octal: the same text would name different hosts to different parsers.
bool is_ipv4(std::string_view s) noexcept {
  int parts = 0;
  while (true) {
    const std::size_t dot = s.find('.');
    const std::string_view part = s.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int value = 0;
    for (char c : part) {
      if (!is_digit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255 || ++parts > 4) return false;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// A reg-name whose last label is a number ("1.2.3", "0x7f.1", "host.255") is not a DNS name; resolvers
// read it as a (possibly shorthand) IPv4 address. Unless it is a proper dotted quad it is refused, as the
// WHATWG URL standard does, so that "what host is this" has one answer.
bool ends_in_number(std::string_view host) noexcept {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    last.remove_prefix(2);
    for (char c : last)
      if (!is_hex(c)) return false;
    return true;
  }
  for (char c : last)
    if (!is_digit(c)) return false;
  return true;
}

bool is_ipv6(std::string_view s) noexcept {
  // Zone ids ("fe80::1%25eth0", RFC 6874) name a local interface: meaningless in a Host header.
  char buf[INET6_ADDRSTRLEN + 1];
  if (s.empty() || s.size() >= sizeof buf || s.find('%') != std::string_view::npos) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  in6_addr addr;
  return ::inet_pton(AF_INET6, buf, &addr) == 1;
}

// RFC 3986 port = *DIGIT; we also require 1..65535 (0 cannot be connected to).
bool parse_port(std::string_view s, std::uint16_t& port) noexcept {
  unsigned value = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return false;
  }
  if (value == 0) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// The five components of a URI reference, split as RFC 3986 Appendix B's regular expression does.
// Nothing is validated here.
struct reference_parts {
  std::string_view scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
};

reference_parts split_reference(std::string_view s) noexcept {
  reference_parts p;
  if (const std::size_t hash = s.find('#'); hash != std::string_view::npos) {
    p.has_fragment = true;
    p.fragment = s.substr(hash + 1);
    s = s.substr(0, hash);
  }
  if (const std::size_t q = s.find('?'); q != std::string_view::npos) {
    p.has_query = true;
    p.query = s.substr(q + 1);
    s = s.substr(0, q);
  }
  if (const std::size_t colon = s.find(':'); colon != std::string_view::npos && colon > 0 &&
                                             s.substr(0, colon).find('/') == std::string_view::npos) {
    p.has_scheme = true;
    p.scheme = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  if (s.substr(0, 2) == "//") {
    s.remove_prefix(2);
    const std::size_t slash = s.find('/');
    p.has_authority = true;
    p.authority = s.substr(0, slash);
    s = slash == std::string_view::npos ? std::string_view() : s.substr(slash);
  }
  p.path = s;
  return p;
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto pop_segment = [&out] {
    const std::size_t slash = out.rfind('/');
    out.resize(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {  // A
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {  // B
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {  // C
      in.remove_prefix(3);
      pop_segment();
    } else if (in == "/..") {
      in = "/";
      pop_segment();
    } else if (in == "." || in == "..") {  // D
      in = {};
    } else {  // E: move the first segment, with its leading '/', to the output
      const std::size_t next = in.find('/', 1);
      out.append(in.substr(0, next));
      in = next == std::string_view::npos ? std::string_view() : in.substr(next);
    }
  }
  return out;
}

// [userinfo "@"] host [":" port], host bracketed when it is an IPv6 literal.
void append_authority(std::string& out, const url& u) {
  if (!u.userinfo().empty()) {
    out += u.userinfo();
    out += '@';
  }
  out += u.host_header();
}

// scheme://[userinfo@]host[:port]target[#fragment]; without `full`, no user info and no fragment (the
// form for messages and logs).
std::string text_of(const url& u, bool full) {
  if (u.empty()) return {};
  std::string out;
  out.reserve(16 + u.userinfo().size() + u.host().size() + u.target().size() + u.fragment().size());
  out += u.scheme();
  out += "://";
  if (full)
    append_authority(out, u);
  else
    out += u.host_header();
  out += u.target();
  if (full && !u.fragment().empty()) {
    out += '#';
    out += u.fragment();
  }
  return out;
}

void append_port(std::string& out, std::uint16_t port) {
  char buf[8];
  const auto r = std::to_chars(buf, buf + sizeof buf, port);
  out.append(buf, r.ptr);
}

}  // namespace

url::url(std::string_view text) {
  std::error_code ec;
  url_diagnosis why;
  *this = parse_impl(text, ec, &why);
  if (ec) throw url_error(ec, std::move(why));
}

void url::clear() noexcept {
  host_.clear();
  userinfo_.clear();
  target_.clear();
  fragment_.clear();
  port_ = 0;
  https_ = ipv6_ = ipv4_ = has_query_ = false;
}

url url::parse(std::string_view text, std::error_code& ec) {
  return parse_impl(text, ec, nullptr);
}

url url::parse(std::string_view text, std::error_code& ec, url_diagnosis& why) {
  return parse_impl(text, ec, &why);
}

// `why` is null on the request path: the words are built only when someone asks for them.
url url::parse_impl(std::string_view text, std::error_code& ec, url_diagnosis* why) {
  using detail::url_component;
  ec.clear();
  const reference_parts p = split_reference(text);
  auto fail = [&](error e, url_problem problem, std::string_view part) {
    ec = e;
    if (why != nullptr) detail::diagnose_url(*why, problem, text, part);
    return url();
  };
  // A byte refused at `i` of `part` (a view into `text`).
  auto fail_byte = [&](std::string_view part, std::size_t i, url_component where) {
    ec = error::invalid_url;
    if (why != nullptr) detail::diagnose_url_byte(*why, text, part, i, where);
    return url();
  };
  constexpr auto npos = std::string_view::npos;
  if (!p.has_scheme) return fail(error::invalid_url, url_problem::relative_reference, text);
  if (!is_scheme(p.scheme)) return fail(error::invalid_url, url_problem::bad_scheme, p.scheme);
  url u;
  if (iequals(p.scheme, "https"))
    u.https_ = true;
  else if (!iequals(p.scheme, "http"))
    return fail(error::unsupported_scheme, url_problem::unsupported_scheme, p.scheme);
  // "http:/x", "http:x"
  if (!p.has_authority)
    return fail(error::invalid_url, url_problem::bad_host, text.substr(p.scheme.size() + 1, 0));

  // authority = [ userinfo "@" ] host [ ":" port ]   (RFC 3986 §3.2)
  std::string_view hostport = p.authority;
  if (const std::size_t at = hostport.find('@'); at != npos) {
    const std::string_view userinfo = hostport.substr(0, at);
    if (const std::size_t bad = find_bad_authority_byte(userinfo, true); bad != npos)
      return fail_byte(userinfo, bad, url_component::userinfo);
    u.userinfo_ = userinfo;
    hostport.remove_prefix(at + 1);
  }
  std::string_view host, port;
  bool has_port = false;
  if (hostport.starts_with('[')) {
    const std::size_t close = hostport.find(']');
    if (close == npos) return fail(error::invalid_url, url_problem::bad_host, hostport);
    host = hostport.substr(1, close - 1);
    const std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail(error::invalid_url, url_problem::bad_host, hostport);
      has_port = true;
      port = rest.substr(1);
    }
    if (!is_ipv6(host)) return fail(error::invalid_url, url_problem::bad_host, hostport.substr(0, close + 1));
    u.ipv6_ = true;
  } else {
    const std::size_t colon = hostport.find(':');
    host = hostport.substr(0, colon);
    if (colon != npos) {
      has_port = true;
      port = hostport.substr(colon + 1);
    }
    if (host.empty()) return fail(error::invalid_url, url_problem::bad_host, host);
    if (const std::size_t bad = find_bad_authority_byte(host, false); bad != npos)
      return fail_byte(host, bad, url_component::host);
    u.ipv4_ = is_ipv4(host);
    if (!u.ipv4_ && ends_in_number(host)) return fail(error::invalid_url, url_problem::bad_host, host);
  }
  // An empty port after ':' means the default one (RFC 3986 §3.2.3).
  if (has_port && !port.empty()) {
    if (!parse_port(port, u.port_)) return fail(error::invalid_url, url_problem::bad_port, port);
    if (u.port_ == (u.https_ ? 443 : 80)) u.port_ = 0;  // §6.2.3: the default port is normalized away
  }
  u.host_.resize(host.size());
  for (std::size_t i = 0; i < host.size(); ++i)
    u.host_[i] = to_lower(host[i]);  // §6.2.2.1

  if (const std::size_t bad = find_bad_tail_byte(p.path); bad != npos)
    return fail_byte(p.path, bad, url_component::path);
  if (const std::size_t bad = find_bad_tail_byte(p.query); bad != npos)
    return fail_byte(p.query, bad, url_component::query);
  // fragment = *( pchar / "/" / "?" ), §3.5: a second '#' is refused too
  if (const std::size_t bad = std::min(find_bad_tail_byte(p.fragment), p.fragment.find('#')); bad != npos)
    return fail_byte(p.fragment, bad, url_component::fragment);
  u.target_.reserve(1 + p.path.size() + 1 + p.query.size());
  u.target_ = p.path.empty() ? std::string_view("/") : p.path;
  if (p.has_query) {
    u.has_query_ = true;
    u.target_ += '?';
    u.target_ += p.query;
  }
  u.fragment_ = p.fragment;
  return u;
}

url url::resolve(std::string_view reference, std::error_code& ec) const {
  if (empty()) return parse(reference, ec);  // no base: only an absolute URL can succeed
  reference_parts r = split_reference(reference);
  std::string t;  // the target URI, as text; parse() validates it at the end
  t.reserve(reference.size() + target_.size() + host_.size() + userinfo_.size() + 16);
  auto append_query_fragment = [&t](bool has_q, std::string_view q, const reference_parts& f) {
    if (has_q) {
      t += '?';
      t += q;
    }
    if (f.has_fragment) {
      t += '#';
      t += f.fragment;
    }
  };

  // RFC 3986 §5.2.2. "http:g" against an http base is read as the relative "g": the non-strict
  // behaviour §5.2.2 allows and browsers implement; a redirect to it is clearly meant that way.
  if (r.has_scheme && (r.has_authority || !iequals(r.scheme, scheme()))) {
    if (!is_scheme(r.scheme)) {
      ec = error::invalid_url;
      return url();
    }
    t += r.scheme;
    t += ':';
    if (r.has_authority) {
      t += "//";
      t += r.authority;
    }
    t += remove_dot_segments(r.path);
    append_query_fragment(r.has_query, r.query, r);
    return parse(t, ec);
  }

  t += scheme();
  t += "://";
  if (r.has_authority) {
    t += r.authority;
    t += remove_dot_segments(r.path);
    append_query_fragment(r.has_query, r.query, r);
    return parse(t, ec);
  }
  append_authority(t, *this);
  if (r.path.empty()) {
    t += path();
    if (r.has_query)
      append_query_fragment(true, r.query, r);
    else
      append_query_fragment(has_query_, query(), r);
  } else if (r.path.starts_with('/')) {
    t += remove_dot_segments(r.path);
    append_query_fragment(r.has_query, r.query, r);
  } else {
    // §5.2.3 merge: the base path up to its last '/' (our base path is never empty), then the reference.
    const std::string_view base = path();
    std::string merged(base.substr(0, base.rfind('/') + 1));
    merged += r.path;
    t += remove_dot_segments(merged);
    append_query_fragment(r.has_query, r.query, r);
  }
  return parse(t, ec);
}

std::string_view url::path() const noexcept {
  const std::string_view t = target();
  return t.substr(0, t.find('?'));
}

std::string_view url::query() const noexcept {
  if (!has_query_) return {};
  const std::string_view t = target_;
  return t.substr(t.find('?') + 1);
}

void url::append_host(std::string& out) const {
  if (ipv6_) out += '[';
  out += host_;
  if (ipv6_) out += ']';
}

std::string url::host_header() const {
  std::string out;
  out.reserve(host_.size() + 8);
  append_host(out);
  if (has_non_default_port()) {
    out += ':';
    append_port(out, port_);
  }
  return out;
}

std::string url::host_port() const {
  std::string out;
  out.reserve(host_.size() + 8);
  append_host(out);
  out += ':';
  append_port(out, port());
  return out;
}

std::string url::origin() const {
  if (empty()) return {};
  std::string out;
  out.reserve(host_.size() + 16);
  out += scheme();
  out += "://";
  append_host(out);
  out += ':';
  append_port(out, port());
  return out;
}

std::string url::redacted() const {
  return text_of(*this, false);
}

std::string url::str() const {
  return text_of(*this, true);
}

}  // namespace sentinel
