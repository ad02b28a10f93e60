// sentinel: the HTTP/2 connection's health check before reuse: a PING when it has been silent for
// ping_after_idle (Go's ReadIdleTimeout, taken at the moment a request would use it). A connection can
// die without a FIN (a NAT or firewall forgets it, the server host vanishes); a stream put on it would
// then wait for its own deadlines. One round trip first tells, and the request goes elsewhere unsent.
#include "http2/stream_state.hpp"

#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

namespace sentinel::detail::http2 {

bool connection::needs_health_check() const noexcept {
  // Only the first exchange that finds the connection silent checks: the others go on (a PING already
  // out answers for them, or the connection fails them all).
  return ping_after_idle_.count() > 0 && exchanges_ > 0 && !ping_pending_ &&
         clock::now() - last_heard_ >= ping_after_idle_;
}

void connection::on_ping_ack() noexcept {
  if (!ping_pending_) return;
  ping_pending_ = false;
  ping_answered_ = true;
  ping_wait_.cancel();
}

asio::awaitable<std::error_code> connection::check_health(clock::duration timeout) {
  ping_pending_ = true;
  ping_answered_ = false;
  if (nghttp2_submit_ping(ng_, NGHTTP2_FLAG_NONE, nullptr) != 0) {
    ping_pending_ = false;
    co_return make_error_code(std::errc::not_enough_memory);
  }
  flush();
  ping_wait_.expires_at(timeout.count() > 0 ? clock::now() + timeout : clock::time_point::max());
  std::error_code ec;
  co_await ping_wait_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (ping_answered_) co_return std::error_code{};
  ping_pending_ = false;
  if (dead_) co_return dead_;  // the connection failed meanwhile
  if (ec) co_return ec;        // the caller cancelled
  const std::error_code silent = asio::error::timed_out;
  fail_all(silent);  // no answer in time: nothing more goes on it, and the pool closes it
  co_return silent;
}

}  // namespace sentinel::detail::http2
