// expect: sentinel::http_client::async_send(req, res, token): req is referenced until the operation completes
#include <sentinel/http_client.hpp>

void f(sentinel::http_client& client, sentinel::response& res) {
  client.async_send(sentinel::request("GET", "http://127.0.0.1/"), res, [](std::error_code) {});
}
