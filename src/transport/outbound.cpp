// sentinel: writing to a stream while watching it. See outbound.hpp.
#include "transport/outbound.hpp"

#include "transport/cancel.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <tuple>
#include <variant>

namespace sentinel::detail {

namespace {

bool is_peer_gone(const std::error_code& ec) noexcept {
  return ec == asio::error::broken_pipe || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted;
}

// Waits until the stream can take more bytes, or (with a watch) until the response is complete.
asio::awaitable<std::error_code> wait_to_write(stream& s, response_watch* watch) {
  using namespace asio::experimental::awaitable_operators;
  std::error_code ec;
  if (watch == nullptr) {
    co_await s.async_wait_writable(asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }
  for (;;) {
    // Both waits at once; the loser is cancelled (per operation, the stream stays usable).
    auto r = co_await (s.async_wait_writable(asio::experimental::as_tuple(asio::use_awaitable)) ||
                       s.async_wait_readable(asio::experimental::as_tuple(asio::use_awaitable)));
    if (r.index() == 0) co_return std::get<0>(std::get<0>(r));
    if ((ec = std::get<0>(std::get<1>(r)))) co_return ec;
    const bool stop = co_await watch->on_readable();
    if (stop) co_return std::error_code{};  // the whole response is here (or reading it failed)
  }
}

// Streams that read into their own buffer (TLS): the write and a read of the response at once (the stream
// allows one of each in flight). The first to finish cancels the other; a complete response wins over
// whatever the write did.
asio::awaitable<std::error_code> write_own_buffer_watched(stream& s,
                                                          const std::array<asio::const_buffer, 2>& bufs,
                                                          const deadline_set& d, response_watch& watch) {
  using namespace asio::experimental::awaitable_operators;
  auto r = co_await (s.async_write_all(bufs, asio::experimental::as_tuple(asio::use_awaitable)) ||
                     watch.read_until_answered());
  // Answered, or the answer was malformed (the exchange reports that error).
  if (watch.responded() || r.index() == 1) co_return std::error_code{};
  std::error_code ec = std::get<0>(std::get<0>(r));
  if (ec && is_peer_gone(ec)) {
    const bool answered = co_await watch.after_write_error();  // (not in a condition: g++ 12)
    if (answered) co_return std::error_code{};
  }
  if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state)) ec = asio::error::operation_aborted;
  co_return d.fired_or(ec);
}

}  // namespace

bool write_now(stream& s, const deadline_set& d, std::string_view& a, std::string_view& b,
               const response_watch* watch, std::error_code& ec) {
  ec.clear();
  if (d.fired()) {
    ec = d.fired_or(ec);
    return true;
  }
  if (!s.reads_by_readiness()) return false;
  if (a.empty() && b.empty()) return true;  // (a stream write of nothing is no system call either)
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                               asio::buffer(b.data(), b.size())};
  std::size_t n = s.try_write(bufs, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    if (watch != nullptr && is_peer_gone(ec)) {
      ec.clear();  // write_all meets it again, and reads what the peer said before it went
      return false;
    }
    ec = d.fired_or(ec);
    return true;
  }
  ec.clear();
  const std::size_t from_a = std::min(n, a.size());
  a.remove_prefix(from_a);
  b.remove_prefix(n - from_a);
  return a.empty() && b.empty();
}

task<std::error_code> write_whole(stream& s, const deadline_set& d, std::string_view a, std::string_view b) {
  const task_context& tc = co_await this_task;
  std::error_code ec;
  if (d.fired()) co_return d.fired_or(ec);
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                               asio::buffer(b.data(), b.size())};
  std::tie(ec, std::ignore) = co_await s.async_write_all(bufs, use_task);
  if (!ec && was_cancelled(tc.cancellation_state())) ec = asio::error::operation_aborted;
  co_return d.fired_or(ec);
}

asio::awaitable<std::error_code> write_all(stream& s, const deadline_set& d, std::string_view a,
                                           std::string_view b, response_watch* watch) {
  std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()), asio::buffer(b.data(), b.size())};
  std::error_code ec;
  if (d.fired()) co_return d.fired_or(ec);
  if (!s.reads_by_readiness()) {
    if (watch != nullptr) co_return co_await write_own_buffer_watched(s, bufs, d, *watch);
    co_await s.async_write_all(bufs, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
      ec = asio::error::operation_aborted;
    co_return d.fired_or(ec);
  }
  std::size_t left = a.size() + b.size();
  for (;;) {
    const std::size_t n = s.try_write(bufs, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      // The peer stopped reading and closed: what it said before that may be a whole response.
      if (watch != nullptr && is_peer_gone(ec)) {
        const bool answered = co_await watch->after_write_error();  // (not in a condition: g++ 12)
        if (answered) co_return std::error_code{};
      }
      co_return d.fired_or(ec);
    }
    left -= n;
    if (left == 0) co_return std::error_code{};
    // Drop what went out from the front of the two buffers.
    std::size_t skip = n;
    for (auto& buf : bufs) {
      const std::size_t k = std::min(skip, buf.size());
      buf += k;
      skip -= k;
    }
    ec = co_await wait_to_write(s, watch);
    if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
      ec = asio::error::operation_aborted;
    if (ec) co_return d.fired_or(ec);
    if (watch != nullptr && watch->responded()) co_return std::error_code{};
  }
}

}  // namespace sentinel::detail
