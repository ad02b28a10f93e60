// libFuzzer target: sentinel::url::parse and url::resolve (RFC 3986).
//
// Input: the text of a URL or URI reference, used (1) as an absolute URL for url::parse and (2) as a
// reference resolved against fixed bases, as a redirect's Location is.
//
// Invariants (FUZZ_CHECK aborts):
//  - failure sets invalid_url or unsupported_scheme and returns an empty url; success returns a non-empty
//    url with an http/https scheme, a lower-case host, a non-zero port and a target starting with '/';
//  - str() of a parsed url re-parses to an equal url, and str() is a fixed point (normalized once);
//  - origin() and host_header() are consistent with the components (and do not crash);
//  - against a base without dot segments, a resolved url re-resolves to itself from its str();
//  - parse with a url_diagnosis gives the same code; on failure the diagnosis names a problem, points
//    inside the text, and its message is short and never quotes the user info;
//  - nothing throws but std::bad_alloc.
#include "fuzz_check.hpp"

#include <sentinel/error.hpp>
#include <sentinel/url.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using sentinel::error;
using sentinel::url;

bool is_lower_host(std::string_view h) {
  for (char c : h)
    if (c >= 'A' && c <= 'Z') return false;
  return true;
}

// Checks a parse/resolve result and returns true when it is a valid url.
bool check_result(const url& u, const std::error_code& ec) {
  if (ec) {
    FUZZ_CHECK(ec == error::invalid_url || ec == error::unsupported_scheme);
    FUZZ_CHECK(u.empty() && u == url());
    return false;
  }
  FUZZ_CHECK(!u.empty());
  FUZZ_CHECK(u.scheme() == "http" || u.scheme() == "https");
  FUZZ_CHECK(is_lower_host(u.host()));
  FUZZ_CHECK(u.port() != 0);
  FUZZ_CHECK(!u.target().empty() && u.target().front() == '/');
  FUZZ_CHECK(!u.path().empty() && u.path().front() == '/');
  FUZZ_CHECK(u.fragment().find('#') == std::string_view::npos);
  if (u.host_is_ipv6()) FUZZ_CHECK(u.host_is_ip());

  // str() re-parses to the same url, and is already normalized.
  const std::string s = u.str();
  std::error_code ec2;
  const url again = url::parse(s, ec2);
  FUZZ_CHECK(!ec2);
  FUZZ_CHECK(again == u);
  FUZZ_CHECK(again.str() == s);

  // Host header: the host (bracketed for IPv6) and the port only when it is not the default.
  const std::string hh = u.host_header();
  const std::string bracketed = u.host_is_ipv6() ? "[" + std::string(u.host()) + "]" : std::string(u.host());
  FUZZ_CHECK(hh.starts_with(bracketed));
  FUZZ_CHECK(u.has_non_default_port() ? hh.size() > bracketed.size() : hh == bracketed);

  // Origin: scheme://host:port, port always explicit.
  const std::string o = u.origin();
  FUZZ_CHECK(o.starts_with(std::string(u.scheme()) + "://" + bracketed + ":"));
  FUZZ_CHECK(o.ends_with(":" + std::to_string(u.port())));
  return true;
}

// `normalized_base`: the base's path has no dot segments. Then so has every resolved url (RFC 3986 §5.2.2
// keeps the base path as is only for an empty reference path), and resolving its text again is the identity.
void check_resolve(const url& base, std::string_view reference, bool normalized_base) {
  std::error_code ec;
  const url r = base.resolve(reference, ec);
  if (!check_result(r, ec) || !normalized_base) return;
  std::error_code ec2;
  const url again = base.resolve(r.str(), ec2);
  FUZZ_CHECK(!ec2);
  FUZZ_CHECK(again == r);
}

void check_diagnosis(std::string_view text, const std::error_code& ec) {
  std::error_code ec2;
  sentinel::url_diagnosis why;
  (void)url::parse(text, ec2, why);
  FUZZ_CHECK(ec2 == ec);
  if (!ec) return;
  FUZZ_CHECK(why.problem != sentinel::url_problem::none);
  FUZZ_CHECK(why.offset <= text.size() && why.length <= text.size() - why.offset);
  FUZZ_CHECK(!why.message.empty() && why.message.size() < 400);
  // A user info refused for a bad byte is never quoted (it may hold a password): its message ends with
  // the component's name (no other message does) and quotes nothing (a '"' byte is named as '"').
  if (why.message.ends_with("in the user info") ||
      why.message.ends_with("in the user info (write a literal '%' as %25)")) {
    std::string m = why.message;
    if (const std::size_t q = m.find("'\"'"); q != std::string::npos) m.erase(q, 3);
    FUZZ_CHECK(m.find('"') == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    static const url bases[] = {
        url("http://user:pw@a.example:8080/b/c/d;p?q#f"),
        url("https://[2001:db8::1]/"),
        url("http://h"),
    };
    std::error_code ec;
    const url u = url::parse(text, ec);
    check_diagnosis(text, ec);
    if (check_result(u, ec)) {
      // A parsed url used as a base: relative references of every RFC 3986 §5.4 shape.
      for (std::string_view ref : {"g", "./g/", "../..", "?y", "#s", "//other/x", ""})
        check_resolve(u, ref, false);
    }
    for (const url& base : bases)
      check_resolve(base, text, true);
    check_resolve(url(), text, true);  // an empty base: only an absolute URL resolves
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    FUZZ_CHECK(!"url::parse/resolve threw");
  } catch (...) {
    FUZZ_CHECK(!"url::parse/resolve threw a non-std exception");
  }
  return 0;
}
