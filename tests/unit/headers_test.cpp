#include <catch2/catch.hpp>

#include <sentinel/headers.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using sentinel::headers;

namespace {

// The fields as (name, value) strings, in order: what a user can observe.
std::vector<std::pair<std::string, std::string>> fields_of(const headers& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const sentinel::field_view f : h)
    out.emplace_back(f.name, f.value);
  return out;
}

using fields = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("iequals", "[headers]") {
  CHECK(sentinel::iequals("Content-Length", "content-length"));
  CHECK(sentinel::iequals("ABCXYZ", "abcxyz"));
  CHECK(sentinel::iequals("", ""));
  CHECK_FALSE(sentinel::iequals("a", "b"));
  CHECK_FALSE(sentinel::iequals("abc", "abcd"));
  CHECK_FALSE(sentinel::iequals("abcd", "abc"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60), '[' and '{' differ by the case bit but are not
  // letters.
  CHECK_FALSE(sentinel::iequals("@", "`"));
  CHECK_FALSE(sentinel::iequals("[", "{"));
  CHECK_FALSE(sentinel::iequals("\xC3", "\xE3"));
}

TEST_CASE("headers: add, get, count, get_all", "[headers]") {
  headers h;
  CHECK(h.empty());
  CHECK(h.size() == 0);
  CHECK_FALSE(h.get("A").has_value());
  CHECK(h.value_or("A", "fallback") == "fallback");

  h.add("Set-Cookie", "a=1");
  h.add("Content-Type", "text/plain");
  h.add("set-cookie", "b=2");
  h.add("X-Empty", "");

  CHECK(h.size() == 4);
  CHECK_FALSE(h.empty());
  CHECK(h.get("SET-COOKIE") == std::optional<std::string_view>("a=1"));
  CHECK(h.get("content-type") == std::optional<std::string_view>("text/plain"));
  CHECK(h.get("X-Empty") == std::optional<std::string_view>(""));
  CHECK(h.contains("x-empty"));
  CHECK_FALSE(h.contains("X-Empt"));
  CHECK_FALSE(h.contains("X-Emptyy"));
  CHECK(h.count("Set-Cookie") == 2);
  CHECK(h.count("Content-Type") == 1);
  CHECK(h.count("Nope") == 0);
  CHECK(h.get_all("set-cookie") == std::vector<std::string_view>{"a=1", "b=2"});
  CHECK(h.get_all("nope").empty());
  CHECK(h.value_or("Content-Type", "x") == "text/plain");

  // Order and case are kept as given.
  CHECK(
      fields_of(h) ==
      fields{{"Set-Cookie", "a=1"}, {"Content-Type", "text/plain"}, {"set-cookie", "b=2"}, {"X-Empty", ""}});
  CHECK(h[2].name == "set-cookie");
  CHECK(h[2].value == "b=2");
}

TEST_CASE("headers: initializer list", "[headers]") {
  const headers h{{"Accept", "text/plain"}, {"X-Trace", "1"}, {"accept", "text/html"}};
  CHECK(fields_of(h) == fields{{"Accept", "text/plain"}, {"X-Trace", "1"}, {"accept", "text/html"}});
  CHECK(h.count("ACCEPT") == 2);
}

TEST_CASE("headers: erase", "[headers]") {
  headers h{{"A", "1"}, {"B", "22"}, {"a", "333"}, {"C", "4444"}, {"A", "55555"}};
  CHECK(h.erase("a") == 3);
  CHECK(fields_of(h) == fields{{"B", "22"}, {"C", "4444"}});
  CHECK(h.erase("a") == 0);
  CHECK(fields_of(h) == fields{{"B", "22"}, {"C", "4444"}});
  CHECK(h.erase("B") == 1);
  CHECK(fields_of(h) == fields{{"C", "4444"}});
  CHECK(h.erase("c") == 1);
  CHECK(h.empty());

  // Adding after erasing works on the compacted storage.
  h.add("D", "x");
  h.add("E", "y");
  CHECK(fields_of(h) == fields{{"D", "x"}, {"E", "y"}});
}

TEST_CASE("headers: set", "[headers]") {
  SECTION("appends when absent") {
    headers h{{"A", "1"}};
    h.set("B", "2");
    CHECK(fields_of(h) == fields{{"A", "1"}, {"B", "2"}});
  }
  SECTION("replaces every field of that name, keeping the first position") {
    headers h{{"X", "first"}, {"A", "1"}, {"x", "second"}, {"B", "2"}, {"X", "third"}};
    h.set("X", "new");
    CHECK(fields_of(h) == fields{{"X", "new"}, {"A", "1"}, {"B", "2"}});
    CHECK(h.count("x") == 1);
  }
  SECTION("longer and shorter values shift later fields correctly") {
    headers h{{"A", "1"}, {"B", "2"}, {"C", "3"}};
    h.set("B", "a much longer value than before");
    CHECK(fields_of(h) == fields{{"A", "1"}, {"B", "a much longer value than before"}, {"C", "3"}});
    h.set("b", "");
    CHECK(fields_of(h) == fields{{"A", "1"}, {"b", ""}, {"C", "3"}});
    h.set("C", "z");
    h.set("A", "yy");
    CHECK(fields_of(h) == fields{{"A", "yy"}, {"b", ""}, {"C", "z"}});
  }
  SECTION("repeated set keeps one field and its neighbours intact") {
    headers h{{"A", "1"}, {"B", "2"}};
    for (int i = 0; i < 1000; ++i)
      h.set("A", std::to_string(i));
    CHECK(fields_of(h) == fields{{"A", "999"}, {"B", "2"}});
    headers fresh{{"A", "999"}, {"B", "2"}};
    CHECK(h == fresh);
  }
}

TEST_CASE("headers: arguments that view the object itself", "[headers]") {
  headers h{{"Name", "value-that-is-long-enough-to-defeat-small-string-optimisation"}};
  for (int i = 0; i < 20; ++i)
    h.add(h[0].name, h[0].value);  // forces reallocation while viewing chars
  CHECK(h.size() == 21);
  for (const auto f : h) {
    CHECK(f.name == "Name");
    CHECK(f.value == "value-that-is-long-enough-to-defeat-small-string-optimisation");
  }

  headers g{{"A", "alpha"}, {"B", "beta"}, {"A", "again"}};
  g.set("A", g[1].value);  // value views a field that moves during set
  CHECK(fields_of(g) == fields{{"A", "beta"}, {"B", "beta"}});
  g.set(g[1].name, g[0].value);
  CHECK(fields_of(g) == fields{{"A", "beta"}, {"B", "beta"}});
}

TEST_CASE("headers: clear keeps the object usable", "[headers]") {
  headers h{{"A", "1"}, {"B", "2"}};
  h.clear();
  CHECK(h.empty());
  CHECK(h.begin() == h.end());
  CHECK_FALSE(h.contains("A"));
  h.add("C", "3");
  CHECK(fields_of(h) == fields{{"C", "3"}});
}

TEST_CASE("headers: has_token", "[headers]") {
  const headers h{{"Connection", "keep-alive, Upgrade"},
                  {"connection", " \tClose\t "},
                  {"Transfer-Encoding", "gzip,chunked"},
                  {"Cache-Control", "no-cache=\"set-cookie\", max-age=0"},
                  {"X-Empty", ",, ,"}};
  CHECK(h.has_token("Connection", "close"));
  CHECK(h.has_token("connection", "KEEP-ALIVE"));
  CHECK(h.has_token("Connection", "upgrade"));
  CHECK_FALSE(h.has_token("Connection", "keep"));
  CHECK_FALSE(h.has_token("Connection", "alive"));
  CHECK(h.has_token("Transfer-Encoding", "chunked"));
  CHECK(h.has_token("Transfer-Encoding", "gzip"));
  CHECK_FALSE(h.has_token("Transfer-Encoding", "gzip,chunked"));
  CHECK(h.has_token("Cache-Control", "max-age=0"));
  CHECK_FALSE(h.has_token("Cache-Control", "no-cache"));
  CHECK_FALSE(h.has_token("X-Empty", ""));
  CHECK_FALSE(h.has_token("Missing", "close"));
  CHECK_FALSE(h.has_token("Upgrade", "keep-alive"));  // the token must be in the named field
}

TEST_CASE("headers: equality", "[headers]") {
  const headers a{{"Content-Type", "text/plain"}, {"X", "1"}};
  CHECK(a == headers{{"content-type", "text/plain"}, {"x", "1"}});
  CHECK_FALSE(a == headers{{"Content-Type", "TEXT/PLAIN"}, {"X", "1"}});  // values are case-sensitive
  CHECK_FALSE(a == headers{{"X", "1"}, {"Content-Type", "text/plain"}});  // order matters
  CHECK_FALSE(a == headers{{"Content-Type", "text/plain"}});
  CHECK_FALSE(a == headers{{"Content-Typ", "etext/plain"}, {"X", "1"}});  // same bytes, different split
  CHECK(headers() == headers());

  // Equality looks at fields, not at how storage got there.
  headers b{{"Junk", "zzzzzzzz"}, {"Content-Type", "text/plain"}, {"X", "0"}};
  b.erase("junk");
  b.set("x", "1");
  CHECK(a == b);
}

TEST_CASE("headers: iteration", "[headers]") {
  const headers h{{"A", "1"}, {"B", "2"}, {"C", "3"}};
  CHECK(std::distance(h.begin(), h.end()) == 3);
  auto it = h.begin();
  CHECK((*it).name == "A");
  CHECK(it[2].value == "3");
  it += 2;
  CHECK((*it).name == "C");
  --it;
  CHECK((*it).name == "B");
  CHECK(it - h.begin() == 1);
  CHECK(it < h.end());
  const auto found = std::find_if(h.begin(), h.end(), [](sentinel::field_view f) { return f.value == "3"; });
  CHECK(found - h.begin() == 2);
}

TEST_CASE("headers: copies are independent", "[headers]") {
  headers a{{"A", "1"}};
  headers b = a;
  b.set("A", "2");
  b.add("B", "3");
  CHECK(fields_of(a) == fields{{"A", "1"}});
  CHECK(fields_of(b) == fields{{"A", "2"}, {"B", "3"}});
  headers c = std::move(b);
  CHECK(fields_of(c) == fields{{"A", "2"}, {"B", "3"}});
}

TEST_CASE("headers: more than 4 GiB of fields is refused, not wrapped", "[headers]") {
  // Reserve address space only (never touched, never committed) so the oversized view is a valid range.
  const std::size_t huge = (std::size_t{1} << 32) + 16;
  void* p = ::mmap(nullptr, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    WARN("mmap of 4 GiB of address space failed; skipping");
    return;
  }
  const std::string_view big(static_cast<const char*>(p), huge);
  headers h{{"A", "1"}};
  CHECK_THROWS_AS(h.add("X", big), std::length_error);
  CHECK_THROWS_AS(h.add(big, "v"), std::length_error);
  CHECK_THROWS_AS(h.set("A", big), std::length_error);
  CHECK_THROWS_AS(h.set("New", big), std::length_error);
  CHECK_THROWS_AS((headers{{"X", big}}), std::length_error);
  // A refused call changes nothing.
  CHECK(fields_of(h) == fields{{"A", "1"}});
  ::munmap(p, huge);
}
