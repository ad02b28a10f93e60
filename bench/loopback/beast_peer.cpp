// Boost.Beast as a native peer of bench/loopback/harness.py (contract: peer.hpp): what a C++ user who
// picks Beast instead of sentinel would write.
//
// One thread, one io_context, CONNECTIONS C++20 coroutines (boost::asio::awaitable), each owning one
// keep-alive connection and sending its share one after another (the request message is built once per
// loop). The read buffer is a flat_buffer reserved to 64 KiB: Beast reads at most
// max(512, capacity - size) bytes per call, so a default-sized buffer reads a 1 MiB body 512 bytes at a
// time (ten times slower on /1m); a user who cares sizes it, and so do we.
#include "peer.hpp"

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <exception>
#include <string>

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t read_reserve = 64 * 1024;

net::awaitable<void> request_loop(const peer::options& o, tcp::endpoint ep, long loop,
                                  peer::clock::time_point start, peer::tally& t) {
  auto ex = co_await net::this_coro::executor;
  tcp::socket sock(ex);
  boost::beast::flat_buffer buf;
  buf.reserve(read_reserve);
  http::request<http::empty_body> req{http::verb::get, o.path, 11};
  req.set(http::field::host, o.host + ":" + o.port);
  req.set(http::field::user_agent, "sentinel-bench-beast-peer");
  req.keep_alive(true);
  req.prepare_payload();
  net::steady_timer timer(ex);

  const long n = o.share(loop);
  for (long k = 0; k < n; ++k) {
    auto sent = peer::clock::now();
    if (o.limited()) {
      sent = start + o.due(loop, k);
      timer.expires_at(sent);
      co_await timer.async_wait(net::use_awaitable);
    }
    try {
      if (!sock.is_open()) {
        co_await sock.async_connect(ep, net::use_awaitable);
        sock.set_option(tcp::no_delay(true));
      }
      co_await http::async_write(sock, req, net::use_awaitable);
      http::response_parser<http::string_body> parser;
      parser.body_limit(64u << 20);
      co_await http::async_read(sock, buf, parser, net::use_awaitable);
      const auto& res = parser.get();
      const auto us = peer::micros(peer::clock::now() - sent);
      if (res.result_int() == 200 &&
          (o.body_bytes < 0 || static_cast<long>(res.body().size()) == o.body_bytes)) {
        t.complete(true, us);
      } else {
        const std::string what = "status " + std::to_string(res.result_int()) + ", " +
                                 std::to_string(res.body().size()) + " body bytes";
        t.complete(false, us, what.c_str());
      }
      if (!res.keep_alive()) {
        boost::system::error_code ignored;
        sock.close(ignored);
      }
    } catch (const std::exception& e) {
      t.complete(false, peer::micros(peer::clock::now() - sent), e.what());
      boost::system::error_code ignored;
      sock.close(ignored);
      buf.consume(buf.size());
    }
  }
  boost::system::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

int main(int argc, char** argv) {
  const peer::options o = peer::parse(argc, argv);
  net::io_context ctx{1};
  tcp::endpoint ep;
  try {
    tcp::resolver resolver(ctx);
    ep = *resolver.resolve(o.host, o.port).begin();
  } catch (const std::exception& e) {
    peer::usage(argv[0], e.what());
  }
  peer::tally t;
  const auto start = peer::clock::now();
  for (long i = 0; i < o.connections; ++i)
    net::co_spawn(ctx, request_loop(o, ep, i, start, t), net::detached);
  ctx.run();
  return t.print(std::chrono::duration<double>(peer::clock::now() - start).count());
}
