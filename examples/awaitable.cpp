// awaitable: one request with co_await, both ways: throwing (use_awaitable) and not (as_tuple).
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>

asio::awaitable<void> run(sentinel::http_client& client, std::string url) {
  // Throws std::system_error on failure; an HTTP status is never an error.
  sentinel::response res = co_await client.async_send(sentinel::request("GET", url), asio::use_awaitable);
  std::printf("%d %s\n", res.status(), res.body().c_str());

  // No exceptions: the error code comes back with the response.
  sentinel::request bad("GET", "http://127.0.0.1:1/");  // nothing listens on port 1
  auto [ec, res2] =
      co_await client.async_send(std::move(bad), asio::experimental::as_tuple(asio::use_awaitable));
  if (ec == sentinel::condition::connect_failed) std::printf("expected failure: %s\n", ec.message().c_str());
}

int main() {
  examples::local_server server;
  asio::io_context ctx;
  sentinel::http_client client(ctx);
  asio::co_spawn(ctx, run(client, server.url("/hello")), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ctx.run();
}
