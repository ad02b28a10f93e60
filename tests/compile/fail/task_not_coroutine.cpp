// expect: the task must be callable as task(sentinel::worker&) and return asio::awaitable<R>
#include <sentinel/client_pool.hpp>

#include <asio/use_future.hpp>

void f(sentinel::client_pool& pool) {
  pool.async_run([](sentinel::worker&) { return 1; }, asio::use_future);
}
