// Unit tests of http1::response_parser beyond the tables: each limit at and past its edge, interim heads,
// in-place obs-fold, final errors, call order, on_eof, one parser over many responses, and steady-state
// allocation.
#include "parser_driver.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

using namespace parser_test;

// ---- allocation counting (the steady-state test) ----------------------------------------------------------
// Replacing the global operator new affects the whole test executable; it counts only on a thread that
// turned counting on. Under AddressSanitizer the replacement is left out, so ASan keeps its own new/delete
// checks (alloc-dealloc mismatch), and the one test that needs it skips with a message.
#if defined(__SANITIZE_ADDRESS__)
#define SENTINEL_PARSER_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SENTINEL_PARSER_TEST_ASAN 1
#endif
#endif

#ifndef SENTINEL_PARSER_TEST_ASAN
namespace {
thread_local bool count_allocations = false;
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (count_allocations) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// noinline: once inlined, g++ sees free() applied to a `new` result and warns (-Wmismatched-new-delete).
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

TEST_CASE("parser: max_head_bytes counts the whole head, CRLFCRLF included", "[parser]") {
  const std::size_t limit = 256;
  const std::string wire = head_of_length(limit);
  REQUIRE(wire.size() == limit);

  const outcome at = feed_all(wire, {.max_head_bytes = limit});
  CHECK_FALSE(at.ec);
  CHECK(at.done);
  const outcome over = feed_all(wire, {.max_head_bytes = limit - 1});
  CHECK(over.ec == error::header_too_large);

  SECTION("and holds while the head is incomplete") {
    std::string buf = "HTTP/1.1 200 OK\r\nX: " + std::string(limit, 'x');
    response_parser p({.max_head_bytes = limit});
    p.reset();
    std::error_code ec;
    CHECK(p.parse_head(buf.data(), limit - 1, ec) == 0);
    CHECK_FALSE(ec);
    CHECK(p.parse_head(buf.data(), limit, ec) == 0);
    CHECK(ec == error::header_too_large);
  }
  SECTION("and applies to the trailer block") {
    const std::string start = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n";
    const std::string trailer_start = "X-Trailer: ";
    const std::string trailers =
        trailer_start + std::string(limit - trailer_start.size() - 4, 't') + "\r\n\r\n";
    REQUIRE(trailers.size() == limit);
    const outcome ok = feed_all(start + trailers, {.max_head_bytes = limit});
    CHECK_FALSE(ok.ec);
    CHECK(ok.done);
    REQUIRE(ok.trailers.size() == 1);
    CHECK(ok.trailers[0].value.size() == limit - trailer_start.size() - 4);
    CHECK(feed_all(start + trailers, {.max_head_bytes = limit - 1}).ec == error::header_too_large);
  }
}

TEST_CASE("parser: max_header_line_bytes counts one line, its line end included", "[parser]") {
  const std::size_t limit = 64;
  const parser_limits at_limit{.max_header_line_bytes = limit};
  const parser_limits below{.max_header_line_bytes = limit - 1};
  // A field line of exactly `limit` bytes with the line end `eol`.
  const auto field_line = [&](std::string_view eol) {
    return "X-Line: " + std::string(limit - 8 - eol.size(), 'l') + std::string(eol);
  };
  const std::string ok = "HTTP/1.1 200 OK\r\n";
  for (const std::string_view eol : {"\r\n", "\n"}) {
    INFO("line end of " << eol.size() << " byte(s)");
    const std::string line = field_line(eol);
    REQUIRE(line.size() == limit);
    const std::string wire = ok + line + "Content-Length: 0\r\n\r\n";
    const outcome o = feed_all(wire, at_limit);
    CHECK(o.done);
    REQUIRE(o.head);
    CHECK(o.head->fields[0].value.size() == limit - 8 - eol.size());
    CHECK(feed_all(wire, below).ec == error::header_line_too_long);
  }
  SECTION("the status line and trailer lines too") {
    const std::string status = "HTTP/1.1 200 " + std::string(limit - 15, 'r') + "\r\n";
    REQUIRE(status.size() == limit);
    CHECK(feed_all(status + "Content-Length: 0\r\n\r\n", at_limit).done);
    CHECK(feed_all(status + "Content-Length: 0\r\n\r\n", below).ec == error::header_line_too_long);
    const std::string trailers = ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + field_line("\r\n") + "\r\n";
    const outcome t = feed_all(trailers, at_limit);
    CHECK(t.done);
    CHECK(t.trailers.size() == 1);
    CHECK(feed_all(trailers, below).ec == error::header_line_too_long);
  }
  SECTION("obs-fold lines count one by one") {
    const std::string wire = ok + field_line("\r\n") + " " + std::string(limit - 3, 'f') + "\r\n\r\n";
    const outcome o = feed_all(wire, at_limit, true);
    CHECK(o.done);
    REQUIRE(o.head);
    CHECK(o.head->fields[0].value.size() > limit);  // one field, longer than any of its lines
  }
  SECTION("an incomplete line fails as soon as it reaches the limit") {
    std::string buf = ok + "X: " + std::string(limit, 'x');
    response_parser p(at_limit);
    p.reset();
    std::error_code ec;
    CHECK(p.parse_head(buf.data(), ok.size() + limit - 1, ec) == 0);
    CHECK_FALSE(ec);
    CHECK(p.parse_head(buf.data(), ok.size() + limit, ec) == 0);
    CHECK(ec == error::header_line_too_long);
  }
  SECTION("0: no cap of its own, max_head_bytes still applies") {
    const std::string wire = ok + "X: " + std::string(1000, 'x') + "\r\n\r\n";
    CHECK(feed_all(wire, {.max_head_bytes = 2048, .max_header_line_bytes = 0}, true).done);
    CHECK(feed_all(wire, {.max_head_bytes = 1000, .max_header_line_bytes = 0}, true).ec ==
          error::header_too_large);
  }
  SECTION("when both limits are reached at the same byte, the head's is named") {
    const std::string endless = "HTTP/1.1 200 " + std::string(100, 'r');
    CHECK(feed_all(endless, {.max_head_bytes = limit, .max_header_line_bytes = limit}).ec ==
          error::header_too_large);
    CHECK(feed_all(endless, {.max_head_bytes = limit + 1, .max_header_line_bytes = limit}).ec ==
          error::header_line_too_long);
  }
}

TEST_CASE("parser: max_header_count, for fields and trailers", "[parser]") {
  const std::string fields = "A: 1\r\nB: 2\r\nContent-Length: 0\r\n";
  const std::string wire = "HTTP/1.1 200 OK\r\n" + fields + "\r\n";
  CHECK(feed_all(wire, {.max_header_count = 3}).done);
  CHECK(feed_all(wire, {.max_header_count = 2}).ec == error::too_many_headers);

  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT1: a\r\nT2: b\r\n\r\n";
  const outcome two = feed_all(chunked, {.max_header_count = 2});
  CHECK(two.done);
  CHECK(two.trailers.size() == 2);
  CHECK(feed_all(chunked, {.max_header_count = 1}).ec == error::too_many_headers);

  SECTION("obs-fold lines do not count as fields") {
    CHECK(
        feed_all("HTTP/1.1 200 OK\r\nA: 1\r\n 2\r\n 3\r\nContent-Length: 0\r\n\r\n", {.max_header_count = 2})
            .done);
  }
}

TEST_CASE("parser: max_chunk_line_bytes counts the whole line, CRLF included", "[parser]") {
  const std::size_t limit = 16;
  const std::string line = "5;" + std::string(limit - 4, 'e') + "\r\n";
  REQUIRE(line.size() == limit);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + line + "hello\r\n0\r\n\r\n";
  const outcome at = feed_all(wire, {.max_chunk_line_bytes = limit});
  CHECK_FALSE(at.ec);
  CHECK(at.body == "hello");
  CHECK(feed_all(wire, {.max_chunk_line_bytes = limit - 1}).ec == error::chunk_line_too_long);

  SECTION("an incomplete line fails as soon as it reaches the limit") {
    response_parser p({.max_chunk_line_bytes = limit});
    p.reset();
    std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::error_code ec;
    REQUIRE(p.parse_head(head.data(), head.size(), ec) == head.size());
    std::string body = "5;" + std::string(100, 'e');
    std::string_view out;
    CHECK(p.parse_body(body.data(), limit - 1, out, ec) == 0);
    CHECK_FALSE(ec);
    CHECK(p.parse_body(body.data(), limit, out, ec) == 0);
    CHECK(ec == error::chunk_line_too_long);
  }
}

TEST_CASE("parser: max_body_bytes for Content-Length, chunked and close-delimited bodies", "[parser]") {
  const parser_limits limits{.max_body_bytes = 10};

  SECTION("Content-Length: the limit itself passes; one more fails at the head, before any body byte") {
    const outcome at = feed_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", limits);
    CHECK(at.done);
    CHECK(at.body == "0123456789");
    response_parser p(limits);
    p.reset();
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
    std::error_code ec;
    CHECK(p.parse_head(head.data(), head.size(), ec) == 0);
    CHECK(ec == error::body_too_large);
  }
  SECTION("chunked: decoded bytes count, not wire bytes") {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const outcome at = feed_all(head + "6;ext=long-extension\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n", limits);
    CHECK(at.done);
    CHECK(at.body == "0123456789");
    CHECK(feed_all(head + "6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n", limits).ec == error::body_too_large);
  }
  SECTION("close-delimited") {
    const outcome at = feed_all("HTTP/1.1 200 OK\r\n\r\n0123456789", limits, true);
    CHECK(at.done);
    CHECK(at.body == "0123456789");
    CHECK(feed_all("HTTP/1.1 200 OK\r\n\r\n0123456789a", limits, true).ec == error::body_too_large);
  }
  SECTION("0 means unlimited") {
    const outcome big = feed_whole("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc", {});
    REQUIRE(big.head);
    CHECK(big.head->content_length == 18446744073709551615u);
    CHECK(big.body == "abc");
    CHECK_FALSE(big.done);
  }
}

TEST_CASE("parser: an interim head prepares the parser for the next head", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string first = "HTTP/1.1 100 Continue\r\n\r\n";
  REQUIRE(p.parse_head(first.data(), first.size(), ec) == first.size());
  CHECK(p.head().status == 100);
  CHECK(p.head().interim());
  CHECK_FALSE(p.head_done());
  CHECK_FALSE(p.done());

  // The caller dropped the interim head's bytes; what follows starts at data[0].
  std::string next = "HTTP/1.1 200 OK\r\nContent-Len";
  CHECK(p.parse_head(next.data(), next.size(), ec) == 0);
  CHECK_FALSE(ec);
  CHECK(p.head().status == 100);  // still the interim head until the next one is complete
  next += "gth: 2\r\n\r\nok";
  REQUIRE(p.parse_head(next.data(), next.size(), ec) == next.size() - 2);
  CHECK(p.head().status == 200);
  CHECK(p.head().fields.size() == 1);
  CHECK(p.head_done());
  std::string_view out;
  CHECK(p.parse_body(next.data() + next.size() - 2, 2, out, ec) == 2);
  CHECK(out == "ok");
  CHECK(p.done());
}

TEST_CASE("parser: 101 is final", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string wire = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
  REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size());
  CHECK_FALSE(p.head().interim());
  CHECK(p.head_done());
  CHECK(p.done());
  CHECK_FALSE(p.head().keep_alive);
}

TEST_CASE("parser: obs-fold is replaced with SP in the caller's buffer", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string wire = "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\nContent-Length: 0\r\n\r\n";
  REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size());
  // CRLF -> 2 SP, the fold's HTAB -> SP.
  CHECK(wire == "HTTP/1.1 200 OK\r\nX: a   b\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(p.head().fields.size() == 2);
  CHECK(p.head().fields[0].value == "a   b");
  CHECK(p.head().fields[0].value.data() == wire.data() + 20);
}

TEST_CASE("parser: errors are final", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string wire = "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n";
  CHECK(p.parse_head(wire.data(), wire.size(), ec) == 0);
  CHECK(ec == error::bad_header);
  ec.clear();
  CHECK(p.parse_head(wire.data(), wire.size(), ec) == 0);
  CHECK(ec == error::bad_header);
  std::string_view out = "junk";
  CHECK(p.parse_body(wire.data(), wire.size(), out, ec) == 0);
  CHECK(ec == error::bad_header);
  CHECK(out.empty());
  p.on_eof(ec);
  CHECK(ec == error::bad_header);
  CHECK_FALSE(p.done());

  SECTION("until reset()") {
    std::string good = "HTTP/1.1 204 No Content\r\n\r\n";
    p.reset();
    CHECK(p.parse_head(good.data(), good.size(), ec) == good.size());
    CHECK_FALSE(ec);
    CHECK(p.done());
  }
}

TEST_CASE("parser: calls out of order report error::internal", "[parser]") {
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string_view out;
  std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
  CHECK(p.parse_body(wire.data(), wire.size(), out, ec) == 0);
  CHECK(ec == error::internal);

  p.reset();
  REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size() - 1);
  CHECK(p.parse_head(wire.data(), wire.size(), ec) == 0);
  CHECK(ec == error::internal);
}

TEST_CASE("parser: on_eof", "[parser]") {
  std::error_code ec;
  std::string_view out;
  SECTION("completes a close-delimited body, even an empty one") {
    response_parser p;
    p.reset();
    std::string wire = "HTTP/1.0 200 OK\r\n\r\n";
    REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size());
    CHECK_FALSE(p.done());
    p.on_eof(ec);
    CHECK_FALSE(ec);
    CHECK(p.done());
    CHECK(p.body_bytes() == 0);
  }
  SECTION("is harmless after a complete response") {
    response_parser p;
    p.reset();
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    REQUIRE(p.parse_head(wire.data(), wire.size(), ec) == wire.size() - 1);
    REQUIRE(p.parse_body(wire.data() + wire.size() - 1, 1, out, ec) == 1);
    p.on_eof(ec);
    CHECK_FALSE(ec);
    CHECK(p.done());
    CHECK(p.body_bytes() == 1);
  }
}

TEST_CASE("parser: one parser, many responses on one connection buffer", "[parser]") {
  // What a keep-alive connection does: reset() per request, parse over the same buffer.
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\nT: "
      "2\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree";
  const request_kind kinds[] = {request_kind::normal, request_kind::normal, request_kind::normal,
                                request_kind::head};
  const char* bodies[] = {"one", "two", "", ""};
  const int statuses[] = {200, 200, 304, 200};
  response_parser p;
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    p.reset(kinds[i]);
    std::error_code ec;
    std::string body;
    while (!p.head_done()) {
      const std::size_t n = p.parse_head(wire.data() + start, wire.size() - start, ec);
      REQUIRE_FALSE(ec);
      REQUIRE(n > 0);
      start += n;
    }
    CHECK(p.head().status == statuses[i]);
    while (!p.done()) {
      std::string_view out;
      const std::size_t n = p.parse_body(wire.data() + start, wire.size() - start, out, ec);
      REQUIRE_FALSE(ec);
      REQUIRE(n > 0);
      body.append(out);
      start += n;
    }
    CHECK(body == bodies[i]);
    CHECK(p.trailers().size() == (i == 1 ? 1u : 0u));
  }
  CHECK(start == wire.size() - 5);  // the HEAD response's "three" is not its body
}

TEST_CASE("parser: a chunked call that ends the last chunk finishes the message", "[parser]") {
  // The connection learns done() with the last data, without another read.
  response_parser p;
  p.reset();
  std::error_code ec;
  std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  REQUIRE(p.parse_head(head.data(), head.size(), ec) == head.size());
  std::string body = "5\r\nhello\r\n0\r\n\r\n";
  std::string_view out;
  CHECK(p.parse_body(body.data(), body.size(), out, ec) == body.size());
  CHECK(out == "hello");
  CHECK(p.done());
  CHECK(p.body_bytes() == 5);
}

TEST_CASE("parser: a 64 KiB head fed byte by byte at the default limit", "[parser]") {
  const std::string wire = head_of_length(parser_limits{}.max_head_bytes);
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i)
    cuts.push_back(i);
  const outcome o = feed(wire, cuts, {}, request_kind::normal, false);
  CHECK_FALSE(o.ec);
  CHECK(o.done);
  const std::string over = head_of_length(parser_limits{}.max_head_bytes + 1);
  CHECK(feed(over, {over.size() / 2}, {}, request_kind::normal, false).ec == error::header_too_large);
}

#ifndef SENTINEL_PARSER_TEST_ASAN
namespace {

// Parses one response from `data`, letting `step` more bytes "arrive" at a time; no allocation of its own.
bool parse_arriving(response_parser& p, char* data, std::size_t size, std::size_t step) {
  std::size_t have = 0;
  std::size_t start = 0;
  std::error_code ec;
  while (!p.done()) {
    if (have == size) return false;
    have = std::min(size, have + step);
    for (;;) {
      if (!p.head_done()) {
        const std::size_t n = p.parse_head(data + start, have - start, ec);
        if (ec) return false;
        if (n == 0) break;
        start += n;
        continue;
      }
      if (p.done()) break;
      std::string_view out;
      const std::size_t n = p.parse_body(data + start, have - start, out, ec);
      if (ec) return false;
      if (n == 0) break;
      start += n;
    }
  }
  return start == size;
}

}  // namespace
#endif

TEST_CASE("parser: steady-state parsing does not allocate", "[parser]") {
#ifdef SENTINEL_PARSER_TEST_ASAN
  WARN("skipped under AddressSanitizer: ASan owns operator new, so this build does not count allocations");
#else
  const std::string typical[] = {
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 15 Jan 2024 10:00:00 GMT\r\n"
      "Content-Type: application/json\r\nContent-Length: 16\r\nConnection: keep-alive\r\n"
      "Cache-Control: no-cache\r\nVary: Accept-Encoding\r\n\r\n{\"status\":\"ok\"}\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
      "8;ext=1\r\n01234567\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\nX-Fold: a\r\n b\r\n\r\n",
  };
  char buffer[1024];
  response_parser p;
  auto run = [&](std::size_t step) {
    bool ok = true;
    for (const std::string& r : typical) {
      std::memcpy(buffer, r.data(), r.size());
      p.reset();
      ok = parse_arriving(p, buffer, r.size(), step) && ok;
    }
    return ok;
  };
  REQUIRE(run(1 << 20));  // warm-up: the field vectors reach their working size
  REQUIRE(run(1));

  allocations = 0;
  count_allocations = true;
  const bool whole = run(1 << 20);
  const bool split = run(7);
  const bool bytes = run(1);
  count_allocations = false;
  REQUIRE(whole);
  REQUIRE(split);
  REQUIRE(bytes);
  CHECK(allocations == 0);

  SECTION("the counter works") {
    // Through a volatile pointer: a new-expression whose result is unused may be elided.
    void* (*volatile allocate)(std::size_t) = static_cast<void* (*)(std::size_t)>(&::operator new);
    count_allocations = true;
    void* p = allocate(16);
    count_allocations = false;
    ::operator delete(p);
    CHECK(allocations == 1);
  }
#endif
}
