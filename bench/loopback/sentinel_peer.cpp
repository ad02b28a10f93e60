// sentinel as a native peer of bench/loopback/harness.py (contract: peer.hpp).
//
// Shape, the same as the Beast and libcurl peers beside it: one thread, one io_context, one http_client
// whose pool may hold CONNECTIONS connections to the origin; CONNECTIONS coroutines each send their share
// one after another over keep-alive, the same request each time into one response of its own
// (async_send(req, res): nothing rebuilt per request, as wrk). A request is OK when it completed without
// error with status 200 and a body of BODY_BYTES bytes. Rate-limited, latency counts from the intended
// send time.
#include "peer.hpp"

#include <sentinel/http_client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <string>

namespace {

asio::awaitable<void> request_loop(sentinel::http_client& client, const sentinel::request& proto,
                                   const peer::options& o, long loop, peer::clock::time_point start,
                                   peer::tally& t) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  sentinel::response res;
  const long n = o.share(loop);
  for (long k = 0; k < n; ++k) {
    auto sent = peer::clock::now();
    if (o.limited()) {
      sent = start + o.due(loop, k);
      timer.expires_at(sent);
      co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    // The same request each time, into the same response (as wrk: nothing rebuilt per request).
    auto [ec] = co_await client.async_send(proto, res, asio::experimental::as_tuple(asio::use_awaitable));
    const auto us = peer::micros(peer::clock::now() - sent);
    const bool good = !ec && res.status() == 200 &&
                      (o.body_bytes < 0 || static_cast<long>(res.body().size()) == o.body_bytes);
    if (good) {
      t.complete(true, us);
    } else {
      const std::string what = ec ? ec.message()
                                  : "status " + std::to_string(res.status()) + ", " +
                                        std::to_string(res.body().size()) + " body bytes";
      t.complete(false, us, what.c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const peer::options o = peer::parse(argc, argv);
  asio::io_context ctx{1};
  sentinel::client_options copts;
  copts.pool.max_per_origin = static_cast<std::size_t>(o.connections);
  sentinel::http_client client(ctx, copts);
  sentinel::request proto;
  try {
    proto = sentinel::request("GET", o.url);
  } catch (const std::exception& e) {
    peer::usage(argv[0], e.what());
  }

  peer::tally t;
  const auto start = peer::clock::now();
  for (long i = 0; i < o.connections; ++i)
    asio::co_spawn(ctx, request_loop(client, proto, o, i, start, t), asio::detached);
  ctx.run();
  return t.print(std::chrono::duration<double>(peer::clock::now() - start).count());
}
