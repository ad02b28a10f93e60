// sentinel: reading a response's bytes for the parser: the transport's inbound bytes (transport/inbound.hpp)
// under HTTP/1's deadlines (the Expect: 100-continue wait, the idle read from the first byte on).
#pragma once

#include "transport/context.hpp"
#include "transport/deadlines.hpp"
#include "transport/inbound.hpp"
#include "transport/stream.hpp"

#include <sentinel/detail/task.hpp>

#include <asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

namespace sentinel::detail {

/// HTTP/1's own deadlines, in the transport's extra slots (transport/deadlines.hpp): the idle read (no
/// byte for idle_read_timeout, from the first response byte on; an error) and the Expect: 100-continue
/// wait (soft: when it passes the body goes anyway).
namespace http1_deadlines {
constexpr std::size_t idle = 0;
constexpr std::size_t expect_continue = 1;
inline void set_continue(deadline_set& d, clock::time_point t) noexcept {
  d.set_extra(expect_continue, t, std::nullopt);
}
inline void end_continue(deadline_set& d) noexcept {
  d.end_extra(expect_continue);
}
inline bool continue_expired(const deadline_set& d) noexcept {
  return d.soft_expired(expect_continue);
}
}  // namespace http1_deadlines

class response_reader {
 public:
  using chunk = inbound::chunk;

  /// A new message: nothing kept, nothing counted; with `wait_first` the first fill() waits before
  /// trying to read (right after a request, a read would only say EAGAIN).
  void start(bool wait_first) noexcept {
    in_.start();
    wait_first_ = wait_first;
  }
  /// The next fill() reads at once (the stream is known to be readable).
  void start_reading() noexcept { wait_first_ = false; }
  /// Reads more. Errors: eof (with what is left in `c`), a passed deadline (its own code), the stream's
  /// error, operation_aborted (with what is kept in `c`). When the Expect: 100-continue wait ends it
  /// returns what it has (maybe nothing) without error, so the body can go.
  task<std::error_code> fill(stream& s, deadline_set& d, connection_context& ctx,
                             const std::weak_ptr<void>& life, chunk& c);
  /// fill() for the awaitable code that reads while a request goes out (response_watch).
  asio::awaitable<std::error_code> fill_awaitable(stream& s, deadline_set& d, connection_context& ctx,
                                                  const std::weak_ptr<void>& life, chunk& c);
  /// What the peer sent before a write failed because it went away: what is there now, or over a stream
  /// whose wait is a read (TLS) one fill(), which then completes at once. would_block: nothing there.
  asio::awaitable<std::error_code> fill_after_peer_gone(stream& s, deadline_set& d, connection_context& ctx,
                                                        const std::weak_ptr<void>& life, chunk& c);
  /// Keeps `c`'s bytes from `consumed` on for the next fill().
  void keep(const stream& s, const chunk& c, std::size_t consumed) { in_.keep(s, c, consumed); }
  /// Drops what is kept (the message is done).
  void release() noexcept { in_.release(); }
  /// Bytes read for this message.
  std::size_t bytes() const noexcept { return in_.bytes(); }
  /// The idle read timeout of this exchange (zero: off); it runs from the first response byte on.
  void set_idle_timeout(deadline_set& d, clock::duration t) noexcept {
    idle_timeout_ = t;
    d.end_extra(http1_deadlines::idle);
  }

 private:
  void note_read(deadline_set& d, const std::weak_ptr<void>& life) noexcept;

  inbound in_;
  clock::duration idle_timeout_{};
  bool wait_first_ = false;
};

}  // namespace sentinel::detail
