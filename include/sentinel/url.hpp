// sentinel: absolute http/https URLs.
#pragma once

#include <sentinel/config.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel {

/// Why a text is not a valid URL. The error code stays `error::invalid_url` (or
/// `error::unsupported_scheme`); this says which part is wrong.
enum class url_problem : std::uint8_t {
  none = 0,
  relative_reference,  ///< No scheme: "example.com/x", "/x", "//host/x". An absolute URL is required.
  bad_scheme,          ///< The scheme has characters a scheme cannot have ("1http://x").
  unsupported_scheme,  ///< A scheme other than http and https ("htp://x", "ftp://x").
  bad_host,            ///< No host, a malformed IP literal, or a name ending in a number ("http://1.2.3/").
  bad_port,            ///< The port is not a number, or not in 1..65535.
  illegal_byte,        ///< A byte not allowed where it is: space, control, non-ASCII, a stray '%', ...
};

/// What is wrong with a URL: the problem, where in the text, and a sentence for people.
struct url_diagnosis {
  url_problem problem = url_problem::none;
  std::size_t offset = 0;  ///< Where the offending part starts in the parsed text.
  std::size_t length = 0;  ///< Its length in bytes (0 when something is missing there).
  /// Names the problem and quotes the offending part (never the user info, which may hold a password),
  /// e.g. `unsupported URL scheme "htp" (only http and https are supported)` or `the port "99999" is out
  /// of range (1-65535)`. Unspecified wording: for people.
  std::string message;
};

/// Thrown by the constructors that parse a URL (`url(text)`, `request(method, text)`): a std::system_error
/// whose code() is `error::invalid_url` or `error::unsupported_scheme` and whose what() reads
/// `invalid URL: ` followed by the diagnosis' message.
class url_error : public std::system_error {
 public:
  url_error(std::error_code ec, url_diagnosis why);
  const url_diagnosis& diagnosis() const noexcept;
  const char* what() const noexcept override;

 private:
  struct state;
  std::shared_ptr<const state> state_;  // shared: copying an exception must not throw
};

/// An absolute `http://` or `https://` URL, parsed and validated.
///
/// Accepted: `scheme://[userinfo@]host[:port][/path][?query][#fragment]` where host is a registered name,
/// an IPv4 address or a bracketed IPv6 address (`[::1]`, zone ids are rejected). The scheme and host are
/// lower-cased (RFC 3986 §6.2.2.1); path and query are kept exactly as given, percent-encoding included
/// (never decoded or re-encoded). The fragment is kept but never sent. Rejected with `error::invalid_url`:
/// spaces, control bytes (CR, LF, NUL, ...), non-ASCII bytes, an empty host, a port outside 1..65535, a
/// malformed IP literal; with `error::unsupported_scheme`: any scheme other than http and https. The
/// overload of parse() with a `url_diagnosis`, and the url_error the constructor throws, say which part.
///
/// A default-constructed url is empty (`empty()`); sending a request with it fails with `invalid_url`.
/// @par Thread safety  A value type: distinct objects are independent; const access is safe concurrently.
class url {
 public:
  url() = default;
  /// Parses `text`; throws url_error (code invalid_url or unsupported_scheme) if it is not valid.
  explicit url(std::string_view text);

  /// Parses `text`; on failure sets `ec` and returns an empty url. Never throws (except std::bad_alloc).
  static url parse(std::string_view text, std::error_code& ec);
  /// As above, and on failure also says what is wrong in `why` (left as it was on success).
  static url parse(std::string_view text, std::error_code& ec, url_diagnosis& why);

  /// Resolves a reference (absolute, scheme-relative `//host/p`, absolute-path `/p`, relative `p`,
  /// query-only `?q`) against this URL as RFC 3986 §5.2 says, removing dot segments. Used for
  /// redirects' `Location`. On failure sets `ec` and returns an empty url.
  url resolve(std::string_view reference, std::error_code& ec) const;

  bool empty() const noexcept { return host_.empty(); }
  /// Makes this url empty (as default-constructed), keeping its storage for the next assignment.
  void clear() noexcept;
  /// "http" or "https", lower case.
  std::string_view scheme() const noexcept { return https_ ? "https" : "http"; }
  bool is_https() const noexcept { return https_; }
  /// The host, lower-cased; an IPv6 address without its brackets ("::1").
  std::string_view host() const noexcept { return host_; }
  /// True when the host is an IPv6 literal (written in brackets in the URL).
  bool host_is_ipv6() const noexcept { return ipv6_; }
  /// True when the host is an IPv4 or IPv6 literal (no DNS lookup, no SNI).
  bool host_is_ip() const noexcept { return ipv6_ || ipv4_; }
  /// The port: the explicit one, or 80/443 from the scheme.
  std::uint16_t port() const noexcept { return port_ != 0 ? port_ : (https_ ? 443 : 80); }
  /// True when the URL names a port that differs from its scheme's default.
  bool has_non_default_port() const noexcept { return port_ != 0 && port_ != (https_ ? 443 : 80); }
  /// The userinfo before '@', as given (percent-encoded), or empty.
  std::string_view userinfo() const noexcept { return userinfo_; }
  /// Path, as given; "/" when the URL has none.
  std::string_view path() const noexcept;
  /// Query without the '?', as given; empty when there is none.
  std::string_view query() const noexcept;
  /// The fragment without '#'; never sent on the wire.
  std::string_view fragment() const noexcept { return fragment_; }
  /// The request-target for HTTP/1.1 origin form: path plus "?query" if any. Never empty.
  std::string_view target() const noexcept { return target_.empty() ? std::string_view("/") : target_; }
  /// The Host header value: host (bracketed if IPv6), plus ":port" when it is not the default.
  std::string host_header() const;
  /// "host:port" with the port always given and an IPv6 host in brackets (a CONNECT request's target).
  std::string host_port() const;
  /// Appends the host, bracketed if it is an IPv6 literal.
  void append_host(std::string& out) const;
  /// The origin key "scheme://host:port" (port always explicit): equal keys may share connections.
  std::string origin() const;
  /// The whole URL, normalized (lower-case scheme and host, no default port), fragment included.
  std::string str() const;

  /// The whole URL for messages and logs: as str(), without the user info (which may hold a password)
  /// and without the fragment.
  std::string redacted() const;

  friend bool operator==(const url&, const url&) = default;

 private:
  static url parse_impl(std::string_view text, std::error_code& ec, url_diagnosis* why);

  std::string host_;
  std::string userinfo_;
  std::string target_;  // path + optional "?query", as given; empty means "/"
  std::string fragment_;
  std::uint16_t port_ = 0;  // 0: not given
  bool https_ = false;
  bool ipv6_ = false;
  bool ipv4_ = false;
  bool has_query_ = false;
};

}  // namespace sentinel
