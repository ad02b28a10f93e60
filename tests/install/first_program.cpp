// A newcomer's first program, compiled by install_test.py with nothing but the installed headers and
// `pkg-config --cflags --libs sentinel`, by g++ and by clang++, with -Wall -Wextra and no warning allowed:
// a braced header list inside co_await, the default completion token, a refused connection caught (its
// message names the request, the phase and the address: install_test.py checks the words).
#include <sentinel/sentinel.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <iostream>
#include <string>

asio::awaitable<void> first(sentinel::http_client& client, sentinel::client_pool& pool, std::string url) {
  try {
    sentinel::response r = co_await client.get(url, {{"Accept", "text/plain"}});
    std::cout << "unexpected answer " << r.status() << '\n';
  } catch (const std::system_error& e) {
    std::cout << "client: " << (e.code() == asio::error::connection_refused ? "refused" : "other") << ": "
              << e.what() << '\n';
  }
  try {
    co_await pool.async_send(sentinel::request("GET", url).header("Accept", "text/plain"));
  } catch (const std::system_error& e) {
    std::cout << "pool: " << (e.code() == asio::error::connection_refused ? "refused" : "other") << ": "
              << e.what() << '\n';
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: first_program URL\n";
    return 2;
  }
  asio::io_context ctx;
  sentinel::http_client client(ctx);
  sentinel::pool_options opts;
  opts.workers = 1;
  sentinel::client_pool pool(opts);
  asio::co_spawn(ctx, first(client, pool, argv[1]), asio::detached);
  ctx.run();
}
