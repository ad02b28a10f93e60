// callback: completion handlers without coroutines. The handler runs on the client's executor.
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"

#include <asio/io_context.hpp>

#include <cstdio>

int main() {
  examples::local_server server;
  asio::io_context ctx;
  sentinel::http_client client(ctx);
  client.async_send(sentinel::request("GET", server.url("/callback")),
                    [](std::error_code ec, sentinel::response res) {
                      if (ec) {
                        std::printf("error: %s\n", ec.message().c_str());
                        return;
                      }
                      std::printf("%d %s\n", res.status(), res.body().c_str());
                    });
  ctx.run();  // returns once the request is done: an idle client leaves no work behind
}
