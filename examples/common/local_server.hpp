// A small local HTTP/1.1 server for the examples and the demo, so they run anywhere without a network.
//
// Listens on 127.0.0.1 (port 0 unless given), keep-alive, on its own thread(s). Every request gets 200
// with the request target as the body ("/item/7" -> "/item/7"), so a client can check that each answer
// belongs to its request. A POST body is read (Content-Length only) and echoed after the target.
// Deliberately minimal: it is a peer for demonstrations, not part of the library.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "mini_http.hpp"

#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace examples {

class local_server {
 public:
  /// Starts listening on 127.0.0.1:`port` (0: any free port) and serves on `threads` threads.
  explicit local_server(unsigned threads = 1, unsigned short port = 0)
      : acceptor_(ctx_, {asio::ip::make_address("127.0.0.1"), port}) {
    acceptor_.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(ctx_, accept_loop(), asio::detached);
    for (unsigned i = 0; i < (threads ? threads : 1); ++i)
      threads_.emplace_back([this] { ctx_.run(); });
  }
  ~local_server() {
    ctx_.stop();
    for (auto& t : threads_)
      t.join();
  }
  local_server(const local_server&) = delete;
  local_server& operator=(const local_server&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      std::error_code ec;
      auto sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;  // EMFILE and friends: keep serving the connections we have
      }
      sock.set_option(asio::ip::tcp::no_delay(true), ec);
      asio::co_spawn(acceptor_.get_executor(), session(std::move(sock)), asio::detached);
    }
  }

  static asio::awaitable<void> session(asio::ip::tcp::socket sock) {
    std::string in;
    for (;;) {
      auto req = co_await read_request(sock, in);
      if (!req) co_return;
      if (!co_await write_response(sock, 200, req->target + req->body, req->close) || req->close) co_return;
    }
  }

  asio::io_context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

}  // namespace examples
