// HTTP/2 against nghttpd (nghttp2's own server): 64 MiB down and 64 MiB up with matching checksums (both
// streamed: the body goes to on_body, the upload comes from a source), many requests on one connection,
// and ALPN h2 over TLS.
#include <sentinel/config.hpp>
#include <sentinel/http_client.hpp>

#include "support/certs.hpp"
#include "support/client_helpers.hpp"
#include "support/nghttpd.hpp"
#include "support/run_until.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>

using namespace std::chrono_literals;
using sentinel::client_options;
using sentinel::http_client;
using sentinel::http_version;
using sentinel::request;
using sentinel::response;
using sentinel::test::fetch;
using sentinel::test::nghttpd;
using sentinel::test::run_until;

namespace {

constexpr std::size_t big = 64u << 20;

// FNV-1a, fed piece by piece: a checksum of a body that is never held whole.
struct checksum {
  std::uint64_t h = 14695981039346656037ull;
  std::uint64_t bytes = 0;
  void add(std::string_view s) {
    for (const char c : s)
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    bytes += s.size();
  }
};

char pattern_at(std::uint64_t i) {
  return static_cast<char>('a' + (i * 7 + i / 4099) % 26);
}

checksum pattern_sum(std::size_t n) {
  checksum c;
  std::string block;
  for (std::uint64_t i = 0; i < n;) {
    block.clear();
    for (std::size_t k = 0; k < 65536 && i < n; ++k, ++i)
      block.push_back(pattern_at(i));
    c.add(block);
  }
  return c;
}

client_options options(http_version v) {
  client_options o;
  o.tls.ca_file = sentinel::test::certs().ca.cert;
  o.version = v;
  o.timeouts.total = 120s;
  return o;
}

std::tuple<std::error_code, response> fetch_sync(asio::io_context& ctx, http_client& c, request req) {
  return run_until(ctx, fetch(c, std::move(req)), 150s);
}

#define SKIP_WITHOUT_NGHTTPD()                                  \
  if (!sentinel::http2_built) {                                 \
    WARN("skipped: HTTP/2 is not built (meson feature http2)"); \
    return;                                                     \
  }                                                             \
  if (!nghttpd::available()) {                                  \
    WARN("skipped: " << nghttpd::unavailable_reason());         \
    return;                                                     \
  }

}  // namespace

TEST_CASE("nghttpd h2c: 64 MiB down and 64 MiB up, checksums equal, on one connection",
          "[interop][nghttpd][http2]") {
  SKIP_WITHOUT_NGHTTPD();
  nghttpd server;
  const checksum expected = pattern_sum(big);
  {
    std::string file;
    file.reserve(big);
    for (std::uint64_t i = 0; i < big; ++i)
      file.push_back(pattern_at(i));
    sentinel::test::detail::write_file(server.htdocs() + "/big", file);
  }
  asio::io_context ctx;
  http_client client(ctx, options(http_version::http2_prior_knowledge));

  checksum down;
  request get("GET", server.url("/big"));
  get.options().on_body = [&down](std::string_view piece) {
    down.add(piece);
    return true;
  };
  auto [e1, got] = fetch_sync(ctx, client, std::move(get));
  INFO(e1.message() << "\n" << server.log());
  REQUIRE_FALSE(e1);
  CHECK(got.status() == 200);
  CHECK(got.version() == 20);
  CHECK(down.bytes == big);
  CHECK(down.h == expected.h);

  checksum up;
  auto sent = std::make_shared<std::uint64_t>(0);
  request post("POST", server.url("/echo"));
  post.set_body_source(
      [sent](std::span<char> buf) -> asio::awaitable<std::size_t> {
        std::size_t n = 0;
        for (; n < buf.size() && *sent < big; ++n, ++*sent)
          buf[n] = pattern_at(*sent);
        co_return n;
      },
      big);
  post.options().on_body = [&up](std::string_view piece) {
    up.add(piece);
    return true;
  };
  auto [e2, echoed] = fetch_sync(ctx, client, std::move(post));
  INFO(e2.message() << "\n" << server.log());
  REQUIRE_FALSE(e2);
  CHECK(echoed.status() == 200);
  CHECK(up.bytes == big);
  CHECK(up.h == expected.h);
  CHECK(client.stats().connections_opened == 1);
}

TEST_CASE("nghttpd over TLS: ALPN h2, and 100 concurrent requests on one connection",
          "[interop][nghttpd][http2]") {
  SKIP_WITHOUT_NGHTTPD();
  sentinel::test::nghttpd_options o;
  o.tls = true;
  nghttpd server(o);
  sentinel::test::detail::write_file(server.htdocs() + "/small", "small file\n");
  asio::io_context ctx;
  http_client client(ctx, options(http_version::http2));
  std::vector<std::tuple<std::error_code, response>> results(100);
  int done = 0;
  run_until(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (std::size_t i = 0; i < results.size(); ++i)
          asio::co_spawn(
              ex,
              [&, i]() -> asio::awaitable<void> {
                results[i] = co_await fetch(client, request("GET", server.url("/small")));
                ++done;
              },
              asio::detached);
        while (done < 100) {
          asio::steady_timer t(ex, 1ms);
          co_await t.async_wait(asio::use_awaitable);
        }
      }(),
      30s);
  int ok = 0;
  for (const auto& [ec, res] : results)
    ok += !ec && res.status() == 200 && res.version() == 20 && res.body() == "small file\n";
  INFO(server.log());
  CHECK(ok == 100);
  CHECK(client.stats().connections_opened == 1);
  CHECK(client.stats().tls_handshakes == 1);
}
