// expect: sentinel::client_pool::async_send: the completion token must be an Asio token
#include <sentinel/client_pool.hpp>

void f(sentinel::client_pool& pool) {
  pool.async_send(sentinel::request("GET", "http://127.0.0.1/"), [](std::error_code) {});
}
