// concurrent_requests: fan out several requests from one coroutine and wait for all of them.
//
//   concurrent_requests [BASE_URL]        (default: a built-in local server)
//
// Everything runs on one io_context thread with one http_client: the requests overlap on the wire
// (each on its own keep-alive connection) and the coroutine resumes when all answers are in.
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <optional>

using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> fan_out(sentinel::http_client& client, std::string base) {
  // `&&` runs the three requests concurrently; if one fails (throws), the others are cancelled.
  auto [user, orders, stock] = co_await (client.get(base + "/users/1") &&
                                         client.get(base + "/orders?user=1") && client.get(base + "/stock"));

  for (const sentinel::response* r : {&user, &orders, &stock})
    std::printf("%s -> %d, %zu bytes: %s\n", r->url().str().c_str(), r->status(), r->body().size(),
                r->body().c_str());

  const auto st = client.stats();
  std::printf("%llu requests, %llu connections opened\n", static_cast<unsigned long long>(st.requests),
              static_cast<unsigned long long>(st.connections_opened));
}

int main(int argc, char** argv) {
  std::optional<examples::local_server> server;
  std::string base = argc > 1 ? argv[1] : "";
  if (base.empty()) {
    server.emplace();
    base = "http://127.0.0.1:" + std::to_string(server->port());
  }
  asio::io_context ctx;
  sentinel::http_client client(ctx);
  asio::co_spawn(ctx, fan_out(client, base), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ctx.run();
}
