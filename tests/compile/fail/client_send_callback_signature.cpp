// expect: sentinel::http_client::async_send: the completion token must be an Asio token
#include <sentinel/http_client.hpp>

void f(sentinel::http_client& client) {
  client.async_send(sentinel::request("GET", "http://127.0.0.1/"), [](int, sentinel::response) {});
}
