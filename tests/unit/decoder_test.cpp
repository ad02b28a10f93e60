// Unit tests of detail::content_decoder: gzip bodies of several members (RFC 1952 §2.2), what may follow a
// member, and that deflate stays a single stream. Each body is fed whole, split into two pieces at every byte
// position, and byte by byte: a member boundary, or the two magic bytes of the next member, may fall
// between two reads.
#include "wire/decoder.hpp"

#include <sentinel/error.hpp>

#include "support/compress.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using namespace std::string_literals;
using sentinel::error;
using sentinel::detail::content_decoder;

namespace {

using sentinel::test::deflate_with;
using sentinel::test::gzip;

struct decoded {
  std::string out;
  std::error_code ec;
};

// Decodes `wire` (Content-Encoding `coding`) delivered in pieces ending at `cuts`, then the end of the body.
decoded decode(std::string_view coding, std::string_view wire, const std::vector<std::size_t>& cuts) {
  content_decoder d;
  decoded r;
  r.ec = d.init(coding);
  if (r.ec) return r;
  auto sink = [&](std::string_view piece) {
    r.out.append(piece);
    return std::error_code{};
  };
  std::size_t prev = 0;
  for (std::size_t cut : cuts) {
    if ((r.ec = d.write(wire.substr(prev, cut - prev), sink))) return r;
    prev = cut;
  }
  if ((r.ec = d.write(wire.substr(prev), sink))) return r;
  r.ec = d.finish(sink);
  return r;
}

// The whole body, every two-piece split, and byte by byte must all give `expected`: the decoded bytes, or
// (for an error) the same error.
void check_every_feeding(std::string_view coding, std::string_view wire, const decoded& expected) {
  auto check = [&](const decoded& r, const std::string& how) {
    INFO(how);
    REQUIRE(r.ec == expected.ec);
    if (!expected.ec) REQUIRE(r.out == expected.out);
  };
  check(decode(coding, wire, {}), "whole");
  std::vector<std::size_t> bytes;
  for (std::size_t cut = 1; cut < wire.size(); ++cut) {
    check(decode(coding, wire, {cut}), "split at " + std::to_string(cut));
    bytes.push_back(cut);
  }
  check(decode(coding, wire, bytes), "byte by byte");
}

const std::error_code corrupt = make_error_code(error::bad_content_encoding);

}  // namespace

TEST_CASE("decoder: every member of a gzip body is decoded (RFC 1952 §2.2)", "[decoder]") {
  const std::string a = gzip("first member\n"), b = gzip("second member\n"), empty = gzip("");
  check_every_feeding("gzip", a, {"first member\n", {}});
  check_every_feeding("gzip", a + b, {"first member\nsecond member\n", {}});
  check_every_feeding("x-gzip", a + empty + b + empty, {"first member\nsecond member\n", {}});

  SECTION("thousands of members in one write (decoded in a loop, not by recursion)") {
    std::string many;
    for (int i = 0; i < 4000; ++i)
      many += empty;
    many += a;
    const decoded r = decode("gzip", many, {});
    CHECK_FALSE(r.ec);
    CHECK(r.out == "first member\n");
  }
  SECTION("a gzip layer of several members inside a chain") {
    const std::string inner = deflate_with("layered\n", 15);
    const std::string outer = gzip(inner.substr(0, 5)) + gzip(inner.substr(5));
    check_every_feeding("deflate, gzip", outer, {"layered\n", {}});
  }
}

TEST_CASE("decoder: bytes after a gzip member that start no member are refused", "[decoder]") {
  const std::string a = gzip("first member\n"), b = gzip("second member\n");
  // Trailing garbage is bad_content_encoding, not ignored: dropping bytes silently would let a damaged
  // or spliced body pass as a shorter one (Go refuses it too; gzip(1) warns; curl 7.88.1 fails).
  check_every_feeding("gzip", a + "GARBAGE!", {{}, corrupt});
  check_every_feeding("gzip", a + "\n", {{}, corrupt});
  check_every_feeding("gzip", a + std::string(8, '\0'), {{}, corrupt});  // padding zeros included
  check_every_feeding("gzip", a + "\x1f" + "x", {{}, corrupt});          // half a magic
  check_every_feeding("gzip", a + "\x8b\x1f", {{}, corrupt});            // the magic reversed
  // A next member that is cut short is a truncated body.
  check_every_feeding("gzip", a + "\x1f", {{}, corrupt});
  check_every_feeding("gzip", a + "\x1f\x8b", {{}, corrupt});
  check_every_feeding("gzip", a + b.substr(0, b.size() - 3), {{}, corrupt});
  // A member whose own data is damaged.
  std::string damaged = b;
  damaged[damaged.size() / 2] ^= 0x55;
  check_every_feeding("gzip", a + damaged, {{}, corrupt});
}

TEST_CASE("decoder: deflate is one stream; bytes after it are refused", "[decoder]") {
  const std::string z = deflate_with("zlib stream\n", 15), raw = deflate_with("raw stream\n", -15);
  check_every_feeding("deflate", z, {"zlib stream\n", {}});
  check_every_feeding("deflate", raw, {"raw stream\n", {}});
  check_every_feeding("deflate", z + z, {{}, corrupt});
  check_every_feeding("deflate", z + "x", {{}, corrupt});
  // A gzip member is not a deflate body.
  CHECK(decode("deflate", gzip("gz"), {}).ec == corrupt);
}

TEST_CASE("decoder: the sink sees every member's output, so a size limit bounds the total", "[decoder]") {
  const std::string text(40000, 'z');
  const std::string body = gzip(text) + gzip(text) + gzip(text);
  content_decoder d;
  REQUIRE_FALSE(d.init("gzip"));
  std::size_t total = 0;
  const std::size_t limit = 100000;  // more than one member's output, less than three
  auto limited = [&](std::string_view piece) {
    total += piece.size();
    return total > limit ? make_error_code(error::decoded_too_large) : std::error_code{};
  };
  std::error_code ec = d.write(body, limited);
  if (!ec) ec = d.finish(limited);
  CHECK(ec == error::decoded_too_large);
  CHECK(total > limit);
  CHECK(total <= limit + 16 * 1024);  // it stopped within one output block of the limit
}
