// sentinel test support: the server end of an in-memory pipe, scripted by the test on the test's own
// executor (no thread, no socket), and a connector that hands http_client such pipes.
#pragma once

#include "client/client_access.hpp"
#include "support/memory_stream.hpp"
#include "support/request_wire.hpp"
#include "support/script_server.hpp"
#include "transport/stream.hpp"

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sentinel::test {

/// A scripted server end: reads requests, writes bytes. All operations report failure instead of throwing.
class memory_peer {
 public:
  explicit memory_peer(memory_stream end) : s_(std::move(end)) {}
  memory_stream& stream() noexcept { return s_; }

  /// Reads one whole request (head and body). False when the client closed or sent garbage.
  asio::awaitable<bool> read_request(received_request& req) {
    std::size_t scanned = 0, head_len = 0;
    wire::body_framing fr;
    for (;;) {
      const auto st = wire::parse_head(buf_, scanned, req, fr, head_len);
      if (st == wire::parse_status::done) break;
      if (st == wire::parse_status::bad) co_return false;
      const bool more = co_await fill();  // (not inside the condition: see wait_for_close)
      if (!more) co_return false;
    }
    req.raw = buf_.substr(0, head_len);
    buf_.erase(0, head_len);
    for (;;) {
      std::size_t len = 0;
      const auto st = wire::parse_body(buf_, fr, len, nullptr);
      if (st == wire::parse_status::done) {
        req.body.clear();
        wire::parse_body(buf_, fr, len, &req.body);
        req.raw += buf_.substr(0, len);
        buf_.erase(0, len);
        co_return true;
      }
      if (st == wire::parse_status::bad) co_return false;
      const bool more = co_await fill();
      if (!more) co_return false;
    }
  }

  /// Reads only a request's head (the body, if any, stays unread). False when the client closed.
  asio::awaitable<bool> read_head(received_request& req) {
    std::size_t scanned = 0, head_len = 0;
    wire::body_framing fr;
    for (;;) {
      const auto st = wire::parse_head(buf_, scanned, req, fr, head_len);
      if (st == wire::parse_status::done) break;
      if (st == wire::parse_status::bad) co_return false;
      const bool more = co_await fill();
      if (!more) co_return false;
    }
    buf_.erase(0, head_len);
    co_return true;
  }

  /// Reads and drops everything until the client closes.
  asio::awaitable<void> drain() {
    for (;;) {
      const bool more = co_await fill();
      buf_.clear();
      if (!more) co_return;
    }
  }

  /// Writes `bytes` whole. False when the client is gone.
  asio::awaitable<bool> write(std::string_view bytes) {
    std::error_code ec;
    co_await asio::async_write(s_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  /// Lets everything else that is ready on the executor run (the client reads what was written).
  static asio::awaitable<void> yield(int rounds = 4) {
    for (int i = 0; i < rounds; ++i)
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }

  static asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    std::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  /// Waits until the client closes (or resets) its end.
  asio::awaitable<void> wait_for_close() {
    for (;;) {
      // Not `while (co_await fill()) {}`: g++ 12 miscompiles a co_await as an empty loop's condition.
      const bool more = co_await fill();
      if (!more) co_return;
    }
  }

 private:
  asio::awaitable<bool> fill() {
    char tmp[4096];
    std::error_code ec;
    const std::size_t n =
        co_await s_.async_read_some(asio::buffer(tmp), asio::redirect_error(asio::use_awaitable, ec));
    buf_.append(tmp, n);
    co_return !ec || n > 0;
  }

  memory_stream s_;
  std::string buf_;
};

/// One scripted server connection: what it does with its peer end.
using memory_script = std::function<asio::awaitable<void>(memory_peer&)>;

/// Makes `client` open every connection as an in-memory pipe; connection i runs scripts[i] (the last one
/// again for later connections). `opened` counts connections, `ends` keeps the client-side ends so tests
/// can inject faults into them.
struct memory_server {
  std::vector<memory_script> scripts;
  std::size_t opened = 0;
  std::vector<memory_stream> client_ends;
  /// Called with each new client end before the client uses it (fault injection).
  std::function<void(memory_stream&)> on_open;
  /// The application protocol each connection reports as negotiated (empty: none, as over plain TCP).
  std::string alpn;

  void attach(http_client& client) {
    auto& core = sentinel::detail::client_access::core(client);
    core.conns->connector = [this, ex = core.ex](
                                const sentinel::detail::route&,
                                sentinel::detail::stream& s) -> asio::awaitable<std::error_code> {
      auto [mine, theirs] = make_memory_pipe(ex);
      client_ends.push_back(mine);
      if (on_open) on_open(mine);
      attach_memory(s, mine, alpn);
      const memory_script& script = scripts[std::min(opened, scripts.size() - 1)];
      ++opened;
      asio::co_spawn(ex, run(std::make_shared<memory_peer>(theirs), script), asio::detached);
      co_return std::error_code{};
    };
  }

 private:
  static asio::awaitable<void> run(std::shared_ptr<memory_peer> peer, memory_script script) {
    co_await script(*peer);
  }
};

}  // namespace sentinel::test
