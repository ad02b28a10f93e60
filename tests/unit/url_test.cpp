#include <catch2/catch.hpp>

#include <sentinel/error.hpp>
#include <sentinel/url.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

using sentinel::error;
using sentinel::url;

namespace {

struct valid_case {
  std::string_view text;
  std::string_view scheme;
  std::string_view host;
  std::uint16_t port;
  std::string_view target;
  std::string_view host_header;
  std::string_view origin;
  std::string_view str;
};

// Rows: input, scheme, host, port, target, Host header, origin, normalized str().
const valid_case valid_cases[] = {
    {"http://example.com", "http", "example.com", 80, "/", "example.com", "http://example.com:80",
     "http://example.com/"},
    {"http://example.com/", "http", "example.com", 80, "/", "example.com", "http://example.com:80",
     "http://example.com/"},
    {"https://example.com/a/b?c=d", "https", "example.com", 443, "/a/b?c=d", "example.com",
     "https://example.com:443", "https://example.com/a/b?c=d"},
    {"HTTP://EXAMPLE.COM/Path/UPPER?Q=A", "http", "example.com", 80, "/Path/UPPER?Q=A", "example.com",
     "http://example.com:80", "http://example.com/Path/UPPER?Q=A"},
    {"HtTpS://Example.Org", "https", "example.org", 443, "/", "example.org", "https://example.org:443",
     "https://example.org/"},
    {"http://h:8080/x", "http", "h", 8080, "/x", "h:8080", "http://h:8080", "http://h:8080/x"},
    {"http://h:80/x", "http", "h", 80, "/x", "h", "http://h:80", "http://h/x"},
    {"https://h:443/", "https", "h", 443, "/", "h", "https://h:443", "https://h/"},
    {"https://h:80/", "https", "h", 80, "/", "h:80", "https://h:80", "https://h:80/"},
    {"http://h:443/", "http", "h", 443, "/", "h:443", "http://h:443", "http://h:443/"},
    {"http://h:/x", "http", "h", 80, "/x", "h", "http://h:80", "http://h/x"},  // empty port: default
    {"http://h:00080/", "http", "h", 80, "/", "h", "http://h:80", "http://h/"},
    {"http://h:65535/", "http", "h", 65535, "/", "h:65535", "http://h:65535", "http://h:65535/"},
    {"http://h:1", "http", "h", 1, "/", "h:1", "http://h:1", "http://h:1/"},
    {"http://h?q", "http", "h", 80, "/?q", "h", "http://h:80", "http://h/?q"},
    {"http://h?", "http", "h", 80, "/?", "h", "http://h:80", "http://h/?"},
    {"http://h#frag", "http", "h", 80, "/", "h", "http://h:80", "http://h/#frag"},
    {"http://h/p?q#f", "http", "h", 80, "/p?q", "h", "http://h:80", "http://h/p?q#f"},
    {"http://h/p#f?notquery", "http", "h", 80, "/p", "h", "http://h:80", "http://h/p#f?notquery"},
    {"http://h/a%20b%2Fc?x=%41", "http", "h", 80, "/a%20b%2Fc?x=%41", "h", "http://h:80",
     "http://h/a%20b%2Fc?x=%41"},
    {"http://h/a/../b/./c", "http", "h", 80, "/a/../b/./c", "h", "http://h:80", "http://h/a/../b/./c"},
    {"http://h//double//slash", "http", "h", 80, "//double//slash", "h", "http://h:80",
     "http://h//double//slash"},
    {"http://h/\"<>\\^`{|}[]", "http", "h", 80, "/\"<>\\^`{|}[]", "h", "http://h:80",
     "http://h/\"<>\\^`{|}[]"},
    {"http://h/p?a=1&b=2;c=/?:@!$'()*+,", "http", "h", 80, "/p?a=1&b=2;c=/?:@!$'()*+,", "h", "http://h:80",
     "http://h/p?a=1&b=2;c=/?:@!$'()*+,"},
    {"http://user:pa%20ss@h/", "http", "h", 80, "/", "h", "http://h:80", "http://user:pa%20ss@h/"},
    {"http://@h/", "http", "h", 80, "/", "h", "http://h:80", "http://h/"},
    {"http://127.0.0.1:8080/", "http", "127.0.0.1", 8080, "/", "127.0.0.1:8080", "http://127.0.0.1:8080",
     "http://127.0.0.1:8080/"},
    {"http://0.0.0.0/", "http", "0.0.0.0", 80, "/", "0.0.0.0", "http://0.0.0.0:80", "http://0.0.0.0/"},
    {"http://255.255.255.255/", "http", "255.255.255.255", 80, "/", "255.255.255.255",
     "http://255.255.255.255:80", "http://255.255.255.255/"},
    {"http://[::1]/", "http", "::1", 80, "/", "[::1]", "http://[::1]:80", "http://[::1]/"},
    {"https://[::1]:8443/x", "https", "::1", 8443, "/x", "[::1]:8443", "https://[::1]:8443",
     "https://[::1]:8443/x"},
    {"http://[2001:DB8::A]:80", "http", "2001:db8::a", 80, "/", "[2001:db8::a]", "http://[2001:db8::a]:80",
     "http://[2001:db8::a]/"},
    {"http://[::ffff:192.0.2.1]/", "http", "::ffff:192.0.2.1", 80, "/", "[::ffff:192.0.2.1]",
     "http://[::ffff:192.0.2.1]:80", "http://[::ffff:192.0.2.1]/"},
    {"http://[::1]:/", "http", "::1", 80, "/", "[::1]", "http://[::1]:80", "http://[::1]/"},
    {"http://sub-1.ex_ample.co.uk/", "http", "sub-1.ex_ample.co.uk", 80, "/", "sub-1.ex_ample.co.uk",
     "http://sub-1.ex_ample.co.uk:80", "http://sub-1.ex_ample.co.uk/"},
    {"http://a~b!$&'()*+,;=/", "http", "a~b!$&'()*+,;=", 80, "/",
     "a~b!$&'()*+,;=", "http://a~b!$&'()*+,;=:80", "http://a~b!$&'()*+,;=/"},
    {"http://localhost", "http", "localhost", 80, "/", "localhost", "http://localhost:80",
     "http://localhost/"},
    {"http://1.2.3.4.example/", "http", "1.2.3.4.example", 80, "/", "1.2.3.4.example",
     "http://1.2.3.4.example:80", "http://1.2.3.4.example/"},
    {"http://123abc/", "http", "123abc", 80, "/", "123abc", "http://123abc:80", "http://123abc/"},
    {"http://x.0xfg/", "http", "x.0xfg", 80, "/", "x.0xfg", "http://x.0xfg:80", "http://x.0xfg/"},
};

struct invalid_case {
  std::string_view text;
  error expected;
};

const invalid_case invalid_cases[] = {
    {"", error::invalid_url},
    {"example.com", error::invalid_url},
    {"example.com/path", error::invalid_url},
    {"/path", error::invalid_url},
    {"//example.com/", error::invalid_url},
    {"http:", error::invalid_url},
    {"http:/h/p", error::invalid_url},
    {"http:h/p", error::invalid_url},
    {"http://", error::invalid_url},
    {"http:///p", error::invalid_url},
    {"http://:80/", error::invalid_url},
    {"http://?q", error::invalid_url},
    {"http://#f", error::invalid_url},
    {"http://u@/", error::invalid_url},
    {" http://h/", error::invalid_url},
    {"1http://h/", error::invalid_url},
    {"ht tp://h/", error::invalid_url},
    {"ftp://h/", error::unsupported_scheme},
    {"FTP://h/", error::unsupported_scheme},
    {"ws://h/", error::unsupported_scheme},
    {"httpx://h/", error::unsupported_scheme},
    {"mailto:a@b.c", error::unsupported_scheme},
    {"file:///etc/passwd", error::unsupported_scheme},
    // host characters
    {"http://exa mple.com/", error::invalid_url},
    {"http://h\r\n/", error::invalid_url},
    {"http://h%/", error::invalid_url},
    {"http://h%zz/", error::invalid_url},
    {"http://h\"/", error::invalid_url},
    {"http://h</", error::invalid_url},
    {"http://ex\xC3\xA9.com/", error::invalid_url},
    {"http://a@b@c/", error::invalid_url},
    {"http://u ser@h/", error::invalid_url},
    {"http://u[@h/", error::invalid_url},
    {"http://h\\p/", error::invalid_url},
    // ports
    {"http://h:0/", error::invalid_url},
    {"http://h:65536/", error::invalid_url},
    {"http://h:99999999999999999999/", error::invalid_url},
    {"http://h:-1/", error::invalid_url},
    {"http://h:+80/", error::invalid_url},
    {"http://h:8o/", error::invalid_url},
    {"http://h:80:81/", error::invalid_url},
    {"http://h: 80/", error::invalid_url},
    // IPv4-looking hosts that are not dotted quads
    {"http://1.2.3/", error::invalid_url},
    {"http://1.2.3.4.5/", error::invalid_url},
    {"http://256.1.1.1/", error::invalid_url},
    {"http://1.2.3.999/", error::invalid_url},
    {"http://1..2.3/", error::invalid_url},
    {"http://1.2.3.4./", error::invalid_url},
    {"http://.1.2.3.4/", error::invalid_url},
    {"http://010.0.0.1/", error::invalid_url},
    {"http://127.1/", error::invalid_url},
    {"http://2130706433/", error::invalid_url},
    {"http://0x7f.0.0.1/", error::invalid_url},
    {"http://host.0x10/", error::invalid_url},
    {"http://example.123/", error::invalid_url},
    // IPv6 literals
    {"http://[::1/", error::invalid_url},
    {"http://[]/", error::invalid_url},
    {"http://[::g]/", error::invalid_url},
    {"http://[1:2:3:4:5:6:7:8:9]/", error::invalid_url},
    {"http://[fe80::1%25eth0]/", error::invalid_url},
    {"http://[fe80::1%eth0]/", error::invalid_url},
    {"http://[v1.x]/", error::invalid_url},
    {"http://[::1]x/", error::invalid_url},
    {"http://[::1]:x/", error::invalid_url},
    {"http://[::1]]/", error::invalid_url},
    {"http://::1/", error::invalid_url},
    {"http://[127.0.0.1]/", error::invalid_url},
    {"http://[0000:0000:0000:0000:0000:0000:0000:0000:0000]/", error::invalid_url},
    // path, query and fragment bytes
    {"http://h/a b", error::invalid_url},
    {"http://h/a\tb", error::invalid_url},
    {"http://h/a\rb", error::invalid_url},
    {"http://h/a\nb", error::invalid_url},
    {std::string_view("http://h/a\0b", 12), error::invalid_url},
    {"http://h/a\x7F", error::invalid_url},
    {"http://h/caf\xC3\xA9", error::invalid_url},
    {"http://h/a%", error::invalid_url},
    {"http://h/a%2", error::invalid_url},
    {"http://h/a%2g", error::invalid_url},
    {"http://h/?a b", error::invalid_url},
    {"http://h/?a%", error::invalid_url},
    {"http://h/?a\r\nHost: evil", error::invalid_url},
    {"http://h/#a b", error::invalid_url},
    {"http://h/#a#b", error::invalid_url},
    {"http://h/#%zz", error::invalid_url},
    {"http://h/ ", error::invalid_url},
};

}  // namespace

TEST_CASE("url: valid URLs", "[url]") {
  for (const valid_case& c : valid_cases) {
    INFO("url: " << c.text);
    std::error_code ec = error::internal;
    const url u = url::parse(c.text, ec);
    REQUIRE_FALSE(ec);
    CHECK_FALSE(u.empty());
    CHECK(u.scheme() == c.scheme);
    CHECK(u.is_https() == (c.scheme == "https"));
    CHECK(u.host() == c.host);
    CHECK(u.port() == c.port);
    CHECK(u.target() == c.target);
    CHECK(u.host_header() == c.host_header);
    CHECK(u.origin() == c.origin);
    CHECK(u.str() == c.str);
    // str() is a fixed point: parsing it gives back the same URL.
    std::error_code ec2;
    const url again = url::parse(u.str(), ec2);
    CHECK_FALSE(ec2);
    CHECK(again == u);
    // The throwing constructor agrees.
    CHECK(url(c.text) == u);
  }
}

TEST_CASE("url: invalid URLs", "[url]") {
  for (const invalid_case& c : invalid_cases) {
    INFO("url: " << std::string(c.text));
    std::error_code ec;
    const url u = url::parse(c.text, ec);
    CHECK(ec == c.expected);
    CHECK(u.empty());
    CHECK(u == url());
  }
}

TEST_CASE("url: the constructor throws system_error with the code", "[url]") {
  try {
    url u("http://h:0/");
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == error::invalid_url);
  }
  try {
    url u("gopher://h/");
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == error::unsupported_scheme);
  }
  CHECK_NOTHROW(url("http://h/"));
}

TEST_CASE("url: parse clears a previous error", "[url]") {
  std::error_code ec = error::invalid_url;
  const url u = url::parse("http://h/", ec);
  CHECK_FALSE(ec);
  CHECK(u.host() == "h");
}

TEST_CASE("url: components", "[url]") {
  SECTION("path, query, fragment") {
    const url u("http://h/a/b?x=1&y=2#frag");
    CHECK(u.path() == "/a/b");
    CHECK(u.query() == "x=1&y=2");
    CHECK(u.fragment() == "frag");
    CHECK(u.target() == "/a/b?x=1&y=2");
  }
  SECTION("no path, with query") {
    const url u("http://h?q=1");
    CHECK(u.path() == "/");
    CHECK(u.query() == "q=1");
    CHECK(u.target() == "/?q=1");
  }
  SECTION("no path, no query") {
    const url u("http://h");
    CHECK(u.path() == "/");
    CHECK(u.query().empty());
    CHECK(u.fragment().empty());
    CHECK(u.target() == "/");
  }
  SECTION("query with '?' inside") {
    const url u("http://h/p?a?b");
    CHECK(u.path() == "/p");
    CHECK(u.query() == "a?b");
  }
  SECTION("percent-encoding is kept as given") {
    const url u("http://h/%7Euser/a%2fb?q=%2B");
    CHECK(u.path() == "/%7Euser/a%2fb");
    CHECK(u.query() == "q=%2B");
  }
  SECTION("userinfo is kept as given and not part of Host or origin") {
    const url u("https://User:P%40ss@Host.Example:8443/");
    CHECK(u.userinfo() == "User:P%40ss");
    CHECK(u.host() == "host.example");
    CHECK(u.host_header() == "host.example:8443");
    CHECK(u.origin() == "https://host.example:8443");
    CHECK(u.str() == "https://User:P%40ss@host.example:8443/");
  }
  SECTION("IP literal flags") {
    const url v4("http://10.0.0.1/");
    CHECK(v4.host_is_ip());
    CHECK_FALSE(v4.host_is_ipv6());
    const url v6("http://[fe80::1]/");
    CHECK(v6.host_is_ip());
    CHECK(v6.host_is_ipv6());
    const url name("http://host/");
    CHECK_FALSE(name.host_is_ip());
    CHECK_FALSE(name.host_is_ipv6());
    const url dotted_name("http://1.2.3.4.nip.io/");
    CHECK_FALSE(dotted_name.host_is_ip());
  }
  SECTION("non-default port") {
    CHECK_FALSE(url("http://h/").has_non_default_port());
    CHECK_FALSE(url("http://h:80/").has_non_default_port());
    CHECK(url("http://h:81/").has_non_default_port());
    CHECK(url("https://h:80/").has_non_default_port());
    CHECK_FALSE(url("https://h:443/").has_non_default_port());
  }
  SECTION("equality follows normalization") {
    CHECK(url("HTTP://H:80") == url("http://h/"));
    CHECK(url("http://h/a") != url("http://h/A"));
    CHECK(url("http://h/") != url("https://h/"));
    CHECK(url("http://h/?") != url("http://h/"));
    CHECK(url("http://h/#x") != url("http://h/"));
  }
  SECTION("a default-constructed url is empty") {
    const url u;
    CHECK(u.empty());
    CHECK(u.target() == "/");
    CHECK(u.path() == "/");
    CHECK(u.query().empty());
    CHECK(u.str().empty());
    CHECK(u.origin().empty());
  }
}

TEST_CASE("url: origin keys tell connections apart", "[url]") {
  CHECK(url("http://h/a").origin() == url("HTTP://H:80/b?c").origin());
  CHECK(url("http://h/").origin() != url("https://h/").origin());
  CHECK(url("http://h/").origin() != url("http://h:8080/").origin());
  CHECK(url("http://h/").origin() != url("http://g/").origin());
  CHECK(url("http://u@h/").origin() == url("http://h/").origin());
}

namespace {

struct resolve_case {
  std::string_view reference;
  std::string_view expected;  // normalized str() of the result
};

// RFC 3986 §5.4.1 (normal) and §5.4.2 (abnormal), base "http://a/b/c/d;p?q".
const resolve_case rfc_cases[] = {
    // §5.4.1
    {"g", "http://a/b/c/g"},
    {"./g", "http://a/b/c/g"},
    {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},
    {"//g", "http://g/"},
    {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},
    {"#s", "http://a/b/c/d;p?q#s"},
    {"g#s", "http://a/b/c/g#s"},
    {"g?y#s", "http://a/b/c/g?y#s"},
    {";x", "http://a/b/c/;x"},
    {"g;x", "http://a/b/c/g;x"},
    {"g;x?y#s", "http://a/b/c/g;x?y#s"},
    {"", "http://a/b/c/d;p?q"},
    {".", "http://a/b/c/"},
    {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},
    {"../", "http://a/b/"},
    {"../g", "http://a/b/g"},
    {"../..", "http://a/"},
    {"../../", "http://a/"},
    {"../../g", "http://a/g"},
    // §5.4.2
    {"../../../g", "http://a/g"},
    {"../../../../g", "http://a/g"},
    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},
    {"g.", "http://a/b/c/g."},
    {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},
    {"..g", "http://a/b/c/..g"},
    {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},
    {"g/./h", "http://a/b/c/g/h"},
    {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", "http://a/b/c/y"},
    {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"g?y/../x", "http://a/b/c/g?y/../x"},
    {"g#s/./x", "http://a/b/c/g#s/./x"},
    {"g#s/../x", "http://a/b/c/g#s/../x"},
    // "http:g": the non-strict reading (§5.2.2), as browsers do.
    {"http:g", "http://a/b/c/g"},
    {"HTTP:g", "http://a/b/c/g"},
    // Absolute and scheme-relative references.
    {"http://other/x/../y", "http://other/y"},
    {"https://other:8443/p?q#f", "https://other:8443/p?q#f"},
    {"HTTPS://OTHER", "https://other/"},
    {"//other:8080/x", "http://other:8080/x"},
    {"//other", "http://other/"},
    {"//u@other/./x/../y", "http://u@other/y"},
    {"//[::1]:8080/", "http://[::1]:8080/"},
    // Characters the URL parser keeps are kept.
    {"/a%20b?c=%2F", "http://a/a%20b?c=%2F"},
    {"g?", "http://a/b/c/g?"},
    {"?", "http://a/b/c/d;p?"},
};

struct resolve_error_case {
  std::string_view reference;
  error expected;
};

const resolve_error_case rfc_error_cases[] = {
    {"g:h", error::unsupported_scheme},  // §5.4.1 "g:h" is absolute, but not http(s)
    {"ftp://x/", error::unsupported_scheme},
    {"mailto:a@b", error::unsupported_scheme},
    {"https:g", error::invalid_url},  // another scheme without authority: strict, so not a valid URL
    {"1a:b", error::invalid_url},  // not a scheme, and a relative path may not have ':' in its first segment
    {"//", error::invalid_url},
    {"//:80/", error::invalid_url},
    {"//h:0/", error::invalid_url},
    {"/a b", error::invalid_url},
    {"g\r\nSet-Cookie: x", error::invalid_url},
    {"/caf\xC3\xA9", error::invalid_url},
    {"?%zz", error::invalid_url},
    {"#a#b", error::invalid_url},
    {"http://1.2.3/", error::invalid_url},
};

}  // namespace

TEST_CASE("url: resolve, RFC 3986 section 5.4", "[url]") {
  const url base("http://a/b/c/d;p?q");
  for (const resolve_case& c : rfc_cases) {
    INFO("reference: \"" << c.reference << "\"");
    std::error_code ec = error::internal;
    const url r = base.resolve(c.reference, ec);
    REQUIRE_FALSE(ec);
    CHECK(r.str() == c.expected);
  }
  for (const resolve_error_case& c : rfc_error_cases) {
    INFO("reference: \"" << std::string(c.reference) << "\"");
    std::error_code ec;
    const url r = base.resolve(c.reference, ec);
    CHECK(ec == c.expected);
    CHECK(r.empty());
  }
}

TEST_CASE("url: resolve against other bases", "[url]") {
  std::error_code ec;
  SECTION("https base keeps scheme, port and userinfo for relative references") {
    const url base("https://u:p@h:8443/dir/page.html?x#top");
    CHECK(base.resolve("other.html", ec).str() == "https://u:p@h:8443/dir/other.html");
    CHECK(base.resolve("/root", ec).str() == "https://u:p@h:8443/root");
    CHECK(base.resolve("?y", ec).str() == "https://u:p@h:8443/dir/page.html?y");
    CHECK(base.resolve("#frag", ec).str() == "https://u:p@h:8443/dir/page.html?x#frag");
    CHECK(base.resolve("", ec).str() == "https://u:p@h:8443/dir/page.html?x");  // base fragment dropped
    CHECK(base.resolve("//cdn.example/lib.js", ec).str() == "https://cdn.example/lib.js");
    CHECK(base.resolve("http://plain/", ec).str() == "http://plain/");
    CHECK(base.resolve("https:rel", ec).str() == "https://u:p@h:8443/dir/rel");
    CHECK_FALSE(ec);
  }
  SECTION("base without path") {
    const url base("http://h");
    CHECK(base.resolve("x", ec).str() == "http://h/x");
    CHECK(base.resolve("../x", ec).str() == "http://h/x");
    CHECK(base.resolve("?q", ec).str() == "http://h/?q");
    CHECK_FALSE(ec);
  }
  SECTION("IPv6 base") {
    const url base("http://[::1]:8080/a/b");
    CHECK(base.resolve("c", ec).str() == "http://[::1]:8080/a/c");
    CHECK(base.resolve("/", ec).str() == "http://[::1]:8080/");
    CHECK_FALSE(ec);
    const url r = base.resolve("c", ec);
    CHECK(r.host_is_ipv6());
    CHECK(r.host() == "::1");
    CHECK(r.port() == 8080);
  }
  SECTION("result components") {
    const url base("http://h/a/b");
    const url r = base.resolve("../c/./d?e=f#g", ec);
    CHECK_FALSE(ec);
    CHECK(r.path() == "/c/d");
    CHECK(r.query() == "e=f");
    CHECK(r.fragment() == "g");
    CHECK(r.target() == "/c/d?e=f");
  }
  SECTION("an empty base resolves only absolute URLs") {
    const url empty;
    CHECK(empty.resolve("http://h/x", ec).str() == "http://h/x");
    CHECK_FALSE(ec);
    CHECK(empty.resolve("/x", ec).empty());
    CHECK(ec == error::invalid_url);
  }
  SECTION("success clears a previous error") {
    ec = error::bad_redirect;
    CHECK(url("http://h/").resolve("x", ec).str() == "http://h/x");
    CHECK_FALSE(ec);
  }
}

TEST_CASE("url::clear empties the url and keeps its storage", "[url]") {
  sentinel::url u("https://user@service-0042.internal.example.com:8443/api/v1/users/12345?fields=name#frag");
  const char* host = u.host().data();
  u.clear();
  CHECK(u == sentinel::url());
  CHECK(u.empty());
  CHECK(u.port() == 80);
  CHECK(u.target() == "/");
  const sentinel::url other("http://service-0042.internal.example.com/x");
  u = other;  // copied into the storage it kept
  CHECK(u == other);
  CHECK(u.host().data() == host);
}
