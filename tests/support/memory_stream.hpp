// sentinel test support: an in-memory byte pipe with both ends on one executor, for tests and benchmarks.
//
// Linked by tests and benchmarks only, never by the library: a connector (transport/context.hpp) attaches
// one end to a connection's stream as a device (transport/device.hpp, attach_memory() below), and the
// connection runs over it exactly as over a socket (readiness waits, non-blocking reads and writes), so
// connections and the pool can be tested and measured with no kernel in the loop. It injects the faults a
// socket test would need a scripted server for: reads split at any size, back-pressure (a bounded buffer),
// EOF, reset, and failure after N bytes in either direction (Beast's test::stream fail_count, by bytes).
// Written here rather than taken from Beast: Beast's test stream is not in Debian's Asio, and this one speaks
// the reactor-style operations (wait, then try) that the connection uses on sockets.
//
// Not thread-safe: both ends belong to one executor's thread.
#pragma once

#include "transport/device.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace sentinel::detail {
class stream;
}

namespace sentinel::test {

using ::sentinel::detail::readiness_event;
using ::sentinel::detail::wait_for;

namespace memory_pipe_detail {

/// One direction of the pipe: bytes written by one end, read by the other.
struct direction {
  explicit direction(const asio::any_io_executor& ex) : readable(ex), writable(ex) {}
  std::string bytes;  // unread, front first
  std::size_t head = 0;
  std::size_t capacity = 0;  // 0: unbounded
  bool eof = false;          // the writer shut down its sending side
  std::error_code error;     // set by reset() or an injected failure: every later read fails with it
  std::size_t passed = 0;    // bytes read so far
  std::size_t fail_after = std::numeric_limits<std::size_t>::max();
  std::error_code fail_with;
  std::size_t read_limit = 0;  // at most this many bytes per read (0: all available)
  readiness_event readable, writable;
  std::size_t available() const noexcept { return bytes.size() - head; }
  bool full() const noexcept { return capacity != 0 && available() >= capacity; }
};

struct state {
  explicit state(const asio::any_io_executor& ex) : ex(ex), dir{direction(ex), direction(ex)} {}
  asio::any_io_executor ex;
  direction dir[2];  // dir[0]: end 0 -> end 1; dir[1]: end 1 -> end 0
  bool open[2] = {true, true};
  std::size_t written[2] = {0, 0};
  std::size_t write_fail_after[2] = {std::numeric_limits<std::size_t>::max(),
                                     std::numeric_limits<std::size_t>::max()};
  std::error_code write_fail_with[2];
};

}  // namespace memory_pipe_detail

/// One end of an in-memory pipe (make_memory_pipe gives both). A cheap handle: copies name the same end.
class memory_stream {
 public:
  using executor_type = asio::any_io_executor;

  memory_stream() = default;
  executor_type get_executor() const noexcept { return st_->ex; }
  bool is_open() const noexcept { return st_ && st_->open[side_]; }

  // --- non-blocking operations (would_block when they would wait) ---------------------------------
  /// Reads what is there (at most the read limit); eof once the peer shut down and everything was read.
  std::size_t read_some(asio::mutable_buffer b, std::error_code& ec);
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& bufs, std::error_code& ec) {
    std::size_t n = 0;
    for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it) {
      const asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      const std::size_t k = write_one(b, ec);
      n += k;
      if (ec || k < b.size()) break;
    }
    if (n > 0 && ec == asio::error::would_block) ec.clear();
    return n;
  }

  // --- readiness waits (the reactor's wait_read / wait_write) -------------------------------------------
  /// A read would not block: bytes, EOF or an error are there.
  bool readable_now() const noexcept {
    const auto& d = in();
    return d.available() > 0 || d.eof || d.error;
  }
  /// A write would not block: room, or an error to report (this end or the peer's closed, a reset).
  bool writable_now() const noexcept {
    const auto& d = out();
    return !d.full() || !is_open() || d.error || !st_->open[1 - side_];
  }
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return async_wait_on(wait_for::read, std::forward<Token>(token));
  }
  template <class Token>
  auto async_wait_writable(Token&& token) {
    return async_wait_on(wait_for::write, std::forward<Token>(token));
  }
  /// The event a wait for `w` parks on (for the device adapter below).
  readiness_event& event(wait_for w) const noexcept {
    return w == wait_for::read ? in().readable : out().writable;
  }

  // --- AsyncReadStream / AsyncWriteStream, for the scripted side of tests (asio::async_write works) --
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& bufs, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer b) { this->read_op(std::move(handler), b); }, token,
        asio::mutable_buffer(*asio::buffer_sequence_begin(bufs)));
  }
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& bufs, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, asio::const_buffer b) { this->write_op(std::move(handler), b); }, token,
        asio::const_buffer(*asio::buffer_sequence_begin(bufs)));
  }

  // --- control ------------------------------------------------------------------------------------------
  /// Like shutdown(SHUT_WR): the peer reads what was sent, then EOF.
  void shutdown_send();
  /// Closes this end: the peer reads EOF after what was sent, its writes fail with broken_pipe; pending
  /// waits here complete with operation_aborted.
  void close() noexcept;
  /// An abortive close (RST): bytes not yet read here are dropped; the peer reads what was sent to it,
  /// then its reads and writes fail with connection_reset.
  void reset() noexcept;
  /// Pending waits of this end complete with operation_aborted (like socket::cancel()).
  void cancel() noexcept;

  // --- fault injection ----------------------------------------------------------------------------------
  /// Reads at most `n` bytes each (splits every message into n-byte pieces).
  void set_read_limit(std::size_t n) noexcept { in().read_limit = n; }
  /// After `n` more bytes were read here, reads fail with `ec`.
  void fail_reads_after(std::size_t n, std::error_code ec) noexcept;
  /// After `n` more bytes were written here, writes fail with `ec`.
  void fail_writes_after(std::size_t n, std::error_code ec) noexcept;
  /// Bytes buffered towards the peer before writes here would block (0: unbounded).
  void set_send_capacity(std::size_t n) noexcept { out().capacity = n; }

  std::size_t bytes_written() const noexcept { return st_->written[side_]; }
  std::size_t bytes_read() const noexcept { return in().passed; }
  /// Bytes sent here that the peer has not read yet.
  std::size_t unread_by_peer() const noexcept { return out().available(); }

 private:
  friend std::pair<memory_stream, memory_stream> make_memory_pipe(const asio::any_io_executor& ex);
  memory_stream(std::shared_ptr<memory_pipe_detail::state> st, int side) : st_(std::move(st)), side_(side) {}

  memory_pipe_detail::direction& in() const noexcept { return st_->dir[1 - side_]; }
  memory_pipe_detail::direction& out() const noexcept { return st_->dir[side_]; }
  std::size_t write_one(asio::const_buffer b, std::error_code& ec);

  template <class Token>
  auto async_wait_on(wait_for w, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, w](auto handler) {
          if (w == wait_for::read ? readable_now() : writable_now()) {
            auto ex = asio::get_associated_executor(handler, st_->ex);
            asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(std::error_code{}); });
            return;
          }
          event(w).async_wait(std::move(handler), st_->ex);
        },
        token);
  }

  template <class Handler>
  void read_op(Handler handler, asio::mutable_buffer b) {
    std::error_code ec;
    const std::size_t n = read_some(b, ec);
    if (ec != asio::error::would_block) {
      auto ex = asio::get_associated_executor(handler, st_->ex);
      asio::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
      return;
    }
    auto ex = asio::get_associated_executor(handler, st_->ex);
    auto slot = asio::get_associated_cancellation_slot(handler);
    async_wait_readable(asio::bind_cancellation_slot(
        slot, asio::bind_executor(ex, [self = *this, b, h = std::move(handler)](std::error_code e) mutable {
          if (e) return std::move(h)(e, std::size_t{0});
          self.read_op(std::move(h), b);
        })));
  }

  template <class Handler>
  void write_op(Handler handler, asio::const_buffer b) {
    std::error_code ec;
    const std::size_t n = write_some(b, ec);
    if (ec != asio::error::would_block) {
      auto ex = asio::get_associated_executor(handler, st_->ex);
      asio::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
      return;
    }
    auto ex = asio::get_associated_executor(handler, st_->ex);
    auto slot = asio::get_associated_cancellation_slot(handler);
    async_wait_writable(asio::bind_cancellation_slot(
        slot, asio::bind_executor(ex, [self = *this, b, h = std::move(handler)](std::error_code e) mutable {
          if (e) return std::move(h)(e, std::size_t{0});
          self.write_op(std::move(h), b);
        })));
  }

  std::shared_ptr<memory_pipe_detail::state> st_;
  int side_ = 0;
};

/// A connected pair of in-memory stream ends on `ex`.
std::pair<memory_stream, memory_stream> make_memory_pipe(const asio::any_io_executor& ex);

/// Makes `s` (a connection's stream, in a connector) run over the pipe end `end`; the stream then reports
/// `alpn` as the negotiated application protocol (empty: none, as over plain TCP).
void attach_memory(::sentinel::detail::stream& s, memory_stream end, std::string alpn = {});

}  // namespace sentinel::test
