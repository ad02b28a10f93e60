// sentinel: reading what a stream has, the cheapest way that stream allows (a connection's inbound bytes).
//
// Readiness streams (TCP, devices) own no read buffer while they wait: they wait for readability, then
// read (non-blocking) into the client's one shared buffer, which the protocol parses in place; only the
// bytes of an unfinished token (half a head, half a chunk-size line) are kept per connection. That is what
// keeps 10,000 busy connections cheap (docs/architecture.md, "Memory"). The shared buffer is the reader's
// only until it suspends: a chunk from take() must be parsed (and keep() called) before the next co_await.
// TLS reads into a buffer of the connection's own, since OpenSSL buffers internally and the socket's
// readiness says nothing about the TLS stream's: there a wait is the read itself.
//
// The protocol sees one pattern for both: take() what is there now; when it would block, async_wait()
// and take() again. Deadlines and what a protocol makes of the bytes stay with the protocol.
#pragma once

#include "transport/context.hpp"
#include "transport/stream.hpp"

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace sentinel::detail {

class inbound {
 public:
  /// Bytes to parse: the kept rest of the previous chunk followed by what was just read.
  struct chunk {
    char* data = nullptr;
    std::size_t size = 0;
  };

  /// A new message: nothing kept, nothing counted.
  void start() noexcept {
    release();
    bytes_ = 0;
  }
  /// Bytes read since start().
  std::size_t bytes() const noexcept { return bytes_; }

  /// Without waiting: what is kept plus what the stream has now. Success with the bytes in `c`; eof with
  /// what is kept in `c` (the end of the stream); would_block when nothing new is there (`c` holds what
  /// is kept); or the stream's error.
  std::error_code take(stream& s, connection_context& ctx, chunk& c);
  /// What is kept, as a chunk (after an error or a cancellation: no new bytes).
  chunk kept(const stream& s, connection_context& ctx) noexcept;
  /// Keeps `c`'s bytes from `consumed` on for the next take().
  void keep(const stream& s, const chunk& c, std::size_t consumed);
  /// Drops what is kept (the message is done).
  void release() noexcept {
    spill_.clear();
    own_len_ = handed_ = 0;
  }
  /// True when a wait is a read (TLS): it completes at once once the peer has gone, with its last bytes
  /// or its error. False for readiness streams, where take() alone sees everything the peer sent.
  static bool wait_reads(const stream& s) noexcept { return !s.reads_by_readiness(); }

  /// Waits until take() may have something: readability, or (TLS) the read itself. One wait may be in
  /// flight per stream; its completion is void(std::error_code).
  template <class Token>
  auto async_wait(stream& s, connection_context& ctx, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, &s, &ctx](auto handler) {
          if (s.reads_by_readiness()) return s.async_wait_readable(std::move(handler));
          auto ex = asio::get_associated_executor(handler, ctx.ex);
          auto slot = asio::get_associated_cancellation_slot(handler);
          auto alloc = asio::get_associated_allocator(handler);  // the read's memory: the handler's
          s.async_read_some(
              own_space(),
              asio::bind_cancellation_slot(
                  slot, asio::bind_executor(
                            ex, asio::bind_allocator(alloc, [this, &ctx, h = std::move(handler)](
                                                                std::error_code ec, std::size_t n) mutable {
                              // Kept even when a cancellation comes with them: OpenSSL has consumed
                              // these bytes, and the next take() must find them.
                              own_len_ += n;
                              count(ctx, n);
                              std::move(h)(ec);
                            }))));
        },
        token);
  }

 private:
  asio::mutable_buffer own_space();
  void count(connection_context& ctx, std::size_t n) noexcept {
    bytes_ += n;
    ctx.counters.bytes_received.add(n);
  }

  std::string spill_;            // readiness streams: unconsumed bytes between reads (a partial token)
  std::unique_ptr<char[]> own_;  // TLS: this connection's read buffer
  std::size_t own_cap_ = 0;
  std::size_t own_len_ = 0;  // bytes in own_
  std::size_t handed_ = 0;   // of which the front were handed out by take() and kept since (not new)
  std::size_t bytes_ = 0;
};

}  // namespace sentinel::detail
