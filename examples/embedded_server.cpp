// embedded_server: an Asio HTTP server whose handlers call an upstream service, two ways.
//
//   embedded_server [--port P] [--upstream BASE_URL] [--workers N]
//
//   GET /direct/<path>  -> co_await an http_client that lives on the server's own io_context: no extra
//                          threads; the upstream call is just more async work on the server's thread.
//   GET /pool/<path>    -> co_await a shared client_pool: the upstream call runs on a pool worker and the
//                          handler resumes on the server's thread.
//   GET /stats          -> the two clients' counters.
//
// Each answer is "<how>:<status>:<upstream body>". Without --upstream a built-in local server plays the
// upstream. Prints "listening on http://127.0.0.1:PORT" once ready; SIGINT/SIGTERM stop it cleanly.
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"
#include "common/mini_http.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct services {
  sentinel::http_client& direct;  // on the server's executor
  sentinel::client_pool& pool;    // shared, thread-safe
  std::string upstream;           // base URL, no trailing slash
};

asio::awaitable<std::string> handle(services& s, const examples::simple_request& req, int& status) {
  auto forward = [&](std::string_view prefix) { return s.upstream + req.target.substr(prefix.size()); };
  if (req.target.rfind("/direct/", 0) == 0) {
    sentinel::request up("GET", forward("/direct"));
    auto [ec, res] = co_await s.direct.async_send(std::move(up), use_tuple);
    if (ec) {
      status = 502;
      co_return "direct:error:" + ec.message();
    }
    co_return "direct:" + std::to_string(res.status()) + ":" + res.body();
  }
  if (req.target.rfind("/pool/", 0) == 0) {
    sentinel::request up("GET", forward("/pool"));
    auto [ec, res] = co_await s.pool.async_send(std::move(up), use_tuple);
    // Back on the server's thread here, whichever worker did the call.
    if (ec) {
      status = 502;
      co_return "pool:error:" + ec.message();
    }
    co_return "pool:" + std::to_string(res.status()) + ":" + res.body();
  }
  if (req.target == "/stats") {
    const auto d = s.direct.stats();
    const auto p = s.pool.stats().total;
    co_return "direct requests=" + std::to_string(d.requests) +
        " connections=" + std::to_string(d.connections_opened) +
        "\npool requests=" + std::to_string(p.requests) +
        " connections=" + std::to_string(p.connections_opened) + "\n";
  }
  status = 404;
  co_return "not found\n";
}

asio::awaitable<void> session(services& s, asio::ip::tcp::socket sock) {
  std::string in;
  for (;;) {
    auto req = co_await examples::read_request(sock, in);
    if (!req) co_return;
    int status = 200;
    const std::string body = co_await handle(s, *req, status);
    if (!co_await examples::write_response(sock, status, body, req->close) || req->close) co_return;
  }
}

asio::awaitable<void> listen(services& s, asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (!ec) asio::co_spawn(acceptor.get_executor(), session(s, std::move(sock)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  std::string upstream;
  std::size_t workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--port"))
      port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--upstream"))
      upstream = argv[i + 1];
    else if (!std::strcmp(argv[i], "--workers"))
      workers = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: embedded_server [--port P] [--upstream BASE_URL] [--workers N]\n");
      return 2;
    }
  }
  std::optional<examples::local_server> builtin;
  if (upstream.empty()) {
    builtin.emplace();
    upstream = "http://127.0.0.1:" + std::to_string(builtin->port());
  }
  while (!upstream.empty() && upstream.back() == '/')
    upstream.pop_back();

  asio::io_context ctx(1);  // the server's own thread
  sentinel::http_client direct(ctx);
  sentinel::pool_options po;
  po.workers = workers ? workers : 1;
  sentinel::client_pool pool(po);
  services s{direct, pool, upstream};

  asio::ip::tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), port});
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) {
    acceptor.close();
    ctx.stop();
  });
  asio::co_spawn(ctx, listen(s, acceptor), asio::detached);
  std::printf("listening on http://127.0.0.1:%u (upstream %s)\n", acceptor.local_endpoint().port(),
              upstream.c_str());
  std::fflush(stdout);
  ctx.run();
  std::printf("stopped\n");
  return 0;
}
