// tests/cli: issue 13 as a user of the tool sees it. The head limits are curl's; what curl 7.88.1 (Debian
// 12) does with the same bytes was measured, and docs/limits.md lists it.
#include "run_tool.hpp"

#include "support/script_server.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using sentinel::test::received_request;
using sentinel::test::script_server;
using sentinel::test::cli::run_tool;

namespace {

// A server that answers every request with `reply`, as raw bytes.
script_server replying(std::string reply) {
  return script_server([reply = std::move(reply)](const received_request&) { return reply; });
}

}  // namespace

// ---- curl's head limits ---------------------------------------------------------------------------------

TEST_CASE("head limits are curl's: a line below 100 KiB, 300 KiB in all, any number of fields",
          "[cli][limits]") {
  const std::string status = "HTTP/1.1 200 OK\r\n";
  // A field line of `n` bytes, CRLF included.
  const auto line = [](std::size_t n) { return "X-Big: " + std::string(n - 9, 'v') + "\r\n"; };
  const std::string tail = "Content-Length: 2\r\n\r\nok";

  auto fine_line = replying(status + line(100 * 1024 - 1) + tail);
  auto r1 = run_tool({"-s", fine_line.url("/")});
  CHECK(r1.exit_code == 0);
  CHECK(r1.out == "ok");
  auto long_line = replying(status + line(100 * 1024) + tail);  // curl 7.88.1: exit 27, "Out of memory"
  auto r2 = run_tool({"-sS", long_line.url("/")});
  CHECK(r2.exit_code == 100);
  CHECK_THAT(r2.err, Catch::Contains("header line") && Catch::Contains("100 KiB"));

  // Whole heads of exactly 300 KiB and one byte more (curl: "Too large response headers: 307201 > 307200").
  const auto head_of = [&](std::size_t total) {
    const std::string end = "Content-Length: 2\r\n\r\n";
    std::string h = status;
    while (h.size() + 1000 + end.size() < total)
      h += line(1000);
    h += line(total - h.size() - end.size());
    REQUIRE(h.size() + end.size() == total);
    return h + end + "ok";
  };
  auto at = replying(head_of(300 * 1024));
  CHECK(run_tool({"-s", at.url("/")}).out == "ok");
  auto over = replying(head_of(300 * 1024 + 1));
  auto r3 = run_tool({"-sS", over.url("/")});
  CHECK(r3.exit_code == 100);
  CHECK_THAT(r3.err, Catch::Contains("300 KiB"));

  // 10,000 fields (the library's default would stop at 100): the byte limit bounds them, as in curl.
  std::string many = status;
  for (int i = 0; i < 10000; ++i)
    many += "F" + std::to_string(i) + ": v\r\n";
  auto lots = replying(many + tail);
  auto r4 = run_tool({"-s", "-i", lots.url("/")});
  CHECK(r4.exit_code == 0);
  CHECK_THAT(r4.out, Catch::Contains("F9999: v\r\n") && Catch::EndsWith("\r\n\r\nok"));
}
