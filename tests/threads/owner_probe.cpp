// Helper for the owner-check test: misuses a single-threaded object on purpose and must abort.
//   owner_probe client   an http_client used on one thread, then from another
//   owner_probe worker   a worker's client touched from outside its worker thread
//   owner_probe home     an io_context destroyed while a pool operation completing on it is in flight
#include <sentinel/client_pool.hpp>

#include <asio/bind_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <cstdio>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  sentinel::request req("GET", "http://127.0.0.1:9/");
  if (std::strcmp(argv[1], "client") == 0) {
    asio::io_context ctx;
    sentinel::http_client client(ctx);
    client.async_send(req, [](std::error_code, sentinel::response) {});  // binds to this thread
    std::thread other([&] { client.async_send(req, [](std::error_code, sentinel::response) {}); });
    other.join();
  } else if (std::strcmp(argv[1], "home") == 0) {
    sentinel::pool_options opts;
    opts.workers = 1;
    sentinel::client_pool pool(opts);
    {
      asio::io_context ctx;
      pool.async_run(
          [](sentinel::worker& w) -> asio::awaitable<int> {
            asio::steady_timer t(w.get_executor(), std::chrono::milliseconds(500));
            co_await t.async_wait(asio::use_awaitable);
            co_return 1;
          },
          asio::bind_executor(ctx, [](std::exception_ptr, int) {}));
    }  // destroyed while the task runs: the worker would post its completion into freed memory
  } else {
    sentinel::pool_options opts;
    opts.workers = 1;
    sentinel::client_pool pool(opts);
    auto fut = pool.async_run([](sentinel::worker& w) -> asio::awaitable<sentinel::worker*> { co_return &w; },
                              asio::use_future);
    sentinel::worker* w = fut.get();
    w->client().async_send(req, [](std::error_code, sentinel::response) {});  // not on the worker's thread
  }
  std::fprintf(stderr, "owner_probe: the misuse was not detected\n");
  return 1;
}
