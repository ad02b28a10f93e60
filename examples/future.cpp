// future: blocking code can use a client_pool with use_future; the pool's threads do the work.
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"

#include <asio/use_future.hpp>

#include <cstdio>

int main() {
  examples::local_server server;
  sentinel::pool_options options;
  options.workers = 2;
  sentinel::client_pool pool(options);
  std::future<sentinel::response> f =
      pool.async_send(sentinel::request("GET", server.url("/future")), asio::use_future);
  try {
    sentinel::response res = f.get();  // rethrows std::system_error on failure
    std::printf("%d %s\n", res.status(), res.body().c_str());
  } catch (const std::system_error& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
