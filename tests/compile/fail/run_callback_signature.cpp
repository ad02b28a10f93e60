// expect: callback taking (std::exception_ptr) for a task returning awaitable<void>, (std::exception_ptr, R)
#include <sentinel/client_pool.hpp>

void f(sentinel::client_pool& pool) {
  // The task returns awaitable<int>, so the callback must also take the int.
  pool.async_run([](sentinel::worker&) -> asio::awaitable<int> { co_return 1; }, [](std::exception_ptr) {});
}
