// sentinel: reading a response's bytes for the parser, the way the connection's stream wants.
//
// Readiness streams (TCP, memory) own no read buffer while they wait: they wait for readability, then
// read (non-blocking) into the client's one shared buffer, which the parser works on in place; only the
// bytes of an unfinished token (half a head, half a chunk-size line) are kept per connection, in
// `spill_`. That is what keeps 10,000 busy connections cheap (docs/architecture.md, "Memory"). The shared
// buffer is the reader's only until it suspends: fill() returns bytes that must be parsed before the
// next co_await. TLS reads into a buffer of the connection's own, since OpenSSL buffers internally.
#pragma once

#include "transport/context.hpp"
#include "transport/deadlines.hpp"
#include "transport/stream.hpp"

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
  /// Bytes to parse: the kept rest of the previous fill followed by what was just read.
  struct chunk {
    char* data = nullptr;
    std::size_t size = 0;
  };

  /// A new message: nothing kept, nothing counted; with `wait_first` the first fill() waits for
  /// readability before trying to read (right after a request, a read would only say EAGAIN).
  void start(bool wait_first) noexcept {
    release();
    bytes_ = 0;
    wait_first_ = wait_first;
  }
  /// The next fill() reads at once (the stream is known to be readable).
  void start_reading() noexcept { wait_first_ = false; }
  /// Reads more. Errors: eof (with what is left in `c`), a passed deadline (its own code), the stream's
  /// error, operation_aborted. When the Expect: 100-continue wait ends it returns what it has (maybe
  /// nothing) without error, so the body can go.
  asio::awaitable<std::error_code> fill(stream& s, deadline_set& d, connection_context& ctx,
                                        const std::weak_ptr<void>& life, chunk& c);
  /// Like fill() on a readiness stream, but never waits: would_block when nothing is there (what is
  /// kept stays kept).
  std::error_code fill_now(connection_context& ctx, stream& s, chunk& c);
  /// Keeps `c`'s bytes from `consumed` on for the next fill().
  void keep(const stream& s, const chunk& c, std::size_t consumed);
  /// Drops what is kept (the message is done).
  void release() noexcept {
    spill_.clear();
    own_len_ = 0;
  }
  /// Bytes read for this message.
  std::size_t bytes() const noexcept { return bytes_; }
  /// The idle read timeout of this exchange (zero: off); it runs from the first response byte on.
  void set_idle_timeout(deadline_set& d, clock::duration t) noexcept {
    idle_timeout_ = t;
    d.end_extra(http1_deadlines::idle);
  }

 private:
  asio::awaitable<std::error_code> fill_tls(stream& s, deadline_set& d, connection_context& ctx,
                                            const std::weak_ptr<void>& life, chunk& c);
  void note_read(deadline_set& d, const std::weak_ptr<void>& life) noexcept;

  std::string spill_;            // readiness streams: unconsumed bytes between reads (a partial token)
  std::unique_ptr<char[]> own_;  // TLS: this connection's read buffer
  std::size_t own_cap_ = 0, own_len_ = 0;
  std::size_t bytes_ = 0;
  clock::duration idle_timeout_{};
  bool wait_first_ = false;
};

}  // namespace sentinel::detail
