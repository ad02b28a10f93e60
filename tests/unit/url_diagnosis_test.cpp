// What url_diagnosis and url_error say about a bad URL: the problem, where, and words that quote the
// offending part (never the user info).
#include <catch2/catch.hpp>

#include <sentinel/error.hpp>
#include <sentinel/request.hpp>
#include <sentinel/url.hpp>

#include <string>
#include <string_view>
#include <system_error>

using sentinel::error;
using sentinel::url;
using sentinel::url_diagnosis;
using sentinel::url_problem;

namespace {

struct diagnosis_case {
  std::string_view text;
  error code;
  url_problem problem;
  std::size_t offset;
  std::size_t length;
  std::string_view says;  // a part of the message
};

const diagnosis_case cases[] = {
    {"", error::invalid_url, url_problem::relative_reference, 0, 0, "the URL is empty"},
    {"example.com/x", error::invalid_url, url_problem::relative_reference, 0, 13,
     "\"example.com/x\" is not an absolute URL"},
    {"/x", error::invalid_url, url_problem::relative_reference, 0, 2, "not an absolute URL"},
    {"//h/x", error::invalid_url, url_problem::relative_reference, 0, 5, "not an absolute URL"},
    {"1http://x/", error::invalid_url, url_problem::bad_scheme, 0, 5, "the scheme \"1http\" is not valid"},
    {"htp://x", error::unsupported_scheme, url_problem::unsupported_scheme, 0, 3,
     "unsupported URL scheme \"htp\" (only http and https are supported)"},
    {"ftp://h/file", error::unsupported_scheme, url_problem::unsupported_scheme, 0, 3, "\"ftp\""},
    {"localhost:8080", error::unsupported_scheme, url_problem::unsupported_scheme, 0, 9,
     "write \"http://localhost:8080\""},
    {"http:/x", error::invalid_url, url_problem::bad_host, 5, 0, "\"http:\" must be followed by \"//host\""},
    {"http://", error::invalid_url, url_problem::bad_host, 7, 0, "the URL has no host"},
    {"http://:80/", error::invalid_url, url_problem::bad_host, 7, 0, "the URL has no host"},
    {"http://[::1/", error::invalid_url, url_problem::bad_host, 7, 4, "has no closing ']'"},
    {"http://[::g]/", error::invalid_url, url_problem::bad_host, 7, 5,
     "\"[::g]\" is not a valid IPv6 address"},
    {"http://[fe80::1%25eth0]/", error::invalid_url, url_problem::bad_host, 7, 16, "zone id"},
    {"http://[::1]x/", error::invalid_url, url_problem::bad_host, 7, 6, "unexpected \"x\" after the IPv6"},
    {"http://1.2.3/", error::invalid_url, url_problem::bad_host, 7, 5,
     "the host \"1.2.3\" ends in a number but is not an IPv4 address"},
    {"http://h:99999/", error::invalid_url, url_problem::bad_port, 9, 5,
     "the port \"99999\" is out of range (1-65535)"},
    {"http://h:0/", error::invalid_url, url_problem::bad_port, 9, 1, "the port \"0\" is out of range"},
    {"http://h:8o/", error::invalid_url, url_problem::bad_port, 9, 2, "the port \"8o\" is not a number"},
    {"http://exa mple/", error::invalid_url, url_problem::illegal_byte, 10, 1,
     "a space is not allowed in the host \"exa mple\""},
    {"http://h/a b", error::invalid_url, url_problem::illegal_byte, 10, 1,
     "a space is not allowed in the path \"/a b\" (percent-encode it)"},
    {"http://h/?a\r\nHost: evil", error::invalid_url, url_problem::illegal_byte, 11, 1,
     "the control byte 0x0D is not allowed in the query \"a\\x0D\\x0AHost: evil\""},
    {"http://h/caf\xC3\xA9", error::invalid_url, url_problem::illegal_byte, 12, 1, "the non-ASCII byte 0xC3"},
    {"http://h/a%2g", error::invalid_url, url_problem::illegal_byte, 10, 1,
     "a '%' that does not start a %XX escape is not allowed in the path \"/a%2g\" (write a literal '%' as "
     "%25)"},
    {"http://h/#a#b", error::invalid_url, url_problem::illegal_byte, 11, 1,
     "'#' is not allowed in the fragment"},
};

}  // namespace

TEST_CASE("url diagnosis: each problem, where it is, and what it says", "[url][diagnosis]") {
  for (const diagnosis_case& c : cases) {
    INFO("url: " << std::string(c.text));
    std::error_code ec;
    url_diagnosis why;
    const url u = url::parse(c.text, ec, why);
    CHECK(u.empty());
    CHECK(ec == c.code);
    CHECK(why.problem == c.problem);
    CHECK(why.offset == c.offset);
    CHECK(why.length == c.length);
    CHECK_THAT(why.message, Catch::Contains(std::string(c.says)));
    // The same code without a diagnosis: asking why never changes the answer.
    std::error_code plain;
    (void)url::parse(c.text, plain);
    CHECK(plain == ec);
  }
}

TEST_CASE("url diagnosis: the user info is never quoted", "[url][diagnosis]") {
  std::error_code ec;
  url_diagnosis why;
  (void)url::parse("http://alice:sec ret@h/", ec, why);
  CHECK(ec == error::invalid_url);
  CHECK(why.problem == url_problem::illegal_byte);
  CHECK(why.offset == 16);
  CHECK_THAT(why.message, Catch::Contains("not allowed in the user info"));
  CHECK_THAT(why.message, !Catch::Contains("sec"));
}

TEST_CASE("url diagnosis: a long part is cut short", "[url][diagnosis]") {
  const std::string text = "http://h/" + std::string(10000, 'a') + " ";
  std::error_code ec;
  url_diagnosis why;
  (void)url::parse(text, ec, why);
  CHECK(why.offset == text.size() - 1);
  CHECK(why.message.size() < 200);
  CHECK_THAT(why.message, Catch::Contains("...\""));
}

TEST_CASE("url diagnosis: success leaves it alone", "[url][diagnosis]") {
  std::error_code ec;
  url_diagnosis why;
  why.message = "kept";
  CHECK(url::parse("http://h:8080/a?b#c", ec, why).port() == 8080);
  CHECK_FALSE(ec);
  CHECK(why.problem == url_problem::none);
  CHECK(why.message == "kept");
}

TEST_CASE("url_error: what the constructors throw", "[url][diagnosis]") {
  try {
    url u("http://h:99999/");
    FAIL("no exception");
  } catch (const sentinel::url_error& e) {
    CHECK(e.code() == error::invalid_url);
    CHECK(e.diagnosis().problem == url_problem::bad_port);
    CHECK(std::string(e.what()) == "invalid URL: the port \"99999\" is out of range (1-65535)");
    const sentinel::url_error copy = e;  // exceptions are copied: the copy says the same
    CHECK(std::string(copy.what()) == e.what());
  }
  try {
    sentinel::request req("GET", "htp://x");
    FAIL("no exception");
  } catch (const std::system_error& e) {  // still a system_error for those who catch that
    CHECK(e.code() == error::unsupported_scheme);
    CHECK_THAT(e.what(), Catch::Contains("unsupported URL scheme \"htp\""));
  }
}

TEST_CASE("url: redacted drops the user info and the fragment", "[url]") {
  CHECK(url("http://alice:secret@H:8080/p?q#frag").redacted() == "http://h:8080/p?q");
  CHECK(url("https://[::1]/").redacted() == "https://[::1]/");
  CHECK(url().redacted().empty());
}
