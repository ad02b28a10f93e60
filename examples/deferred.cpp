// deferred: build the operation now, launch it later (here: with a callback, after a timer).
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"

#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>

int main() {
  examples::local_server server;
  asio::io_context ctx;
  sentinel::http_client client(ctx);
  // Nothing is sent yet: a deferred operation is a value that starts when given a token.
  auto op =
      client.async_send(sentinel::request("GET", server.url("/deferred")), asio::experimental::deferred);
  asio::steady_timer timer(ctx, std::chrono::milliseconds(10));
  timer.async_wait([&](std::error_code) {
    std::move(op)([](std::error_code ec, sentinel::response res) {
      std::printf("%s %d %s\n", ec ? ec.message().c_str() : "ok", res.status(), res.body().c_str());
    });
  });
  ctx.run();
}
