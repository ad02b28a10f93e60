// A server that answers before the upload is done (RFC 9112 §9.5). Node and Go answer 413 or 405 early
// and close without reading the rest; nginx keeps reading. For each way the server goes on (closes,
// resets, keeps reading) and each kind of body (memory, file, source), the client stops sending once
// the answer is complete, returns it, and does not reuse the connection it cut short.
#include <sentinel/http_client.hpp>

#include "support/certs.hpp"
#include "support/client_helpers.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <fstream>

using namespace std::chrono_literals;
using sentinel::http_client;
using sentinel::request;
using sentinel::test::fetch;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::step;

namespace {

constexpr std::size_t upload_size = 8u << 20;  // more than the socket buffers: the upload cannot finish

enum class body_kind { memory, file, source };

request upload(const std::string& url, body_kind kind, const std::string& file) {
  request req("POST", url);
  switch (kind) {
    case body_kind::memory:
      req.set_body(std::string(upload_size, 'm'));
      break;
    case body_kind::file:
      req.set_body_file(file);
      break;
    case body_kind::source: {
      auto left = std::make_shared<std::size_t>(upload_size);
      req.set_body_source(
          [left](std::span<char> buf) -> asio::awaitable<std::size_t> {
            const std::size_t n = std::min(buf.size(), *left);
            std::fill_n(buf.data(), n, 's');
            *left -= n;
            co_return n;
          },
          upload_size);
      break;
    }
  }
  return req;
}

// For each way the server goes on and each body kind: the 413 comes back, the next request works.
void check_early_answers(bool tls) {
  const std::string dir = sentinel::test::detail::make_temp_dir("early");
  const std::string file = dir + "/upload.bin";
  {
    std::ofstream out(file, std::ios::binary);
    const std::string block(1 << 20, 'f');
    for (std::size_t i = 0; i < upload_size / block.size(); ++i)
      out << block;
  }
  const std::string answer = script_server::response(413, "too big", {{"Connection", "close"}});
  struct server_case {
    const char* name;
    step then;
  };
  const server_case servers[] = {
      {"then closes with the body unread", step::close()},
      {"then resets", step::reset()},
      {"then keeps reading", step::wait_for_close()},
      {"then stops reading but keeps the connection", step::stall(3s)},
  };
  sentinel::test::server_options so;
  if (tls)
    so.tls = sentinel::test::tls_options{
        sentinel::test::certs().server.cert, sentinel::test::certs().server.key, {}};
  for (const auto& sc : servers) {
    for (body_kind kind : {body_kind::memory, body_kind::file, body_kind::source}) {
      INFO(sc.name << ", body kind " << static_cast<int>(kind) << (tls ? ", over TLS" : ""));
      script_server server(
          {{step::expect_head(), step::send(answer), sc.then}},
          {step::expect_request(), step::send(script_server::response(200, "next")), step::wait_for_close()},
          so);
      asio::io_context ctx;
      sentinel::client_options opts;
      opts.timeouts.response_head = 10s;
      if (tls) opts.tls.ca_file = sentinel::test::certs().ca.cert;
      http_client client(ctx, opts);
      auto [ec, res] = run_until(ctx, fetch(client, upload(server.url("/up"), kind, file)), 20s);
      INFO(ec.message());
      REQUIRE_FALSE(ec);
      CHECK(res.status() == 413);
      CHECK(res.body() == "too big");
      CHECK(client.stats().retries == 0);
      // The connection whose request was cut short is not reused: the next request opens another.
      auto [ec2, res2] = run_until(ctx, fetch(client, request("GET", server.url("/next"))), 10s);
      CHECK_FALSE(ec2);
      CHECK(res2.body() == "next");
      CHECK(client.stats().connections_opened == 2);
    }
  }
  sentinel::test::detail::remove_temp_dir(dir);
}

}  // namespace

TEST_CASE("an early answer during an upload is returned, whatever the server does next", "[early]") {
  check_early_answers(false);
}

TEST_CASE("an early answer during an upload is returned over TLS too", "[early][tls]") {
  check_early_answers(true);
}
