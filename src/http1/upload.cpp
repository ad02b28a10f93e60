// sentinel: writing requests and their bodies. See upload.hpp.
#include "http1/upload.hpp"

#include "transport/cancel.hpp"
#include "wire/http1/chunked.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>
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

namespace {

// The next block of a file or source body into `data` (room for `block` bytes); 0 at the end.
asio::awaitable<std::error_code> next_block(const outgoing_body& body, std::uint64_t sent, char* data,
                                            std::size_t block, std::size_t& n) {
  n = 0;
  if (body.fd >= 0) {
    if (sent == *body.length) co_return std::error_code{};
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(block, *body.length - sent));
    const auto r = ::pread(body.fd, data, want, static_cast<off_t>(sent));
    if (r < 0) co_return std::error_code(errno, std::system_category());
    if (r == 0) co_return make_error_code(error::invalid_request);  // the file shrank while we sent it
    n = static_cast<std::size_t>(r);
    co_return std::error_code{};
  }
  // The source is user code: what it throws ends the exchange with a code, never by unwinding.
  std::exception_ptr thrown;
  try {
    n = co_await (*body.source)(std::span<char>(data, block));
  } catch (...) {
    thrown = std::current_exception();
  }
  if (thrown) {
    if (body.thrown != nullptr) *body.thrown = std::move(thrown);
    co_return make_error_code(error::callback_threw);
  }
  if (was_cancelled(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
  if (n > block) co_return make_error_code(error::invalid_request);
  if (body.length && sent + n > *body.length) co_return make_error_code(error::invalid_request);
  if (n == 0 && body.length && sent != *body.length) co_return make_error_code(error::invalid_request);
  co_return std::error_code{};
}

}  // namespace

asio::awaitable<std::error_code> send_body(stream& s, const deadline_set& d, transport_counters& counters,
                                           const outgoing_body& body, response_watch* watch) {
  if (body.in_memory()) {
    const auto ec = co_await write_all(s, d, body.data, {}, watch);
    if (!ec) counters.bytes_sent.add(body.data.size());
    co_return ec;
  }
  // Files and sources go out in blocks through one buffer per exchange (uploads are rare next to
  // requests, so it is allocated here rather than kept per connection). Room is left around each block
  // for chunk framing, so a chunk is one write.
  constexpr std::size_t block = 64 * 1024;
  auto buf = std::make_unique<char[]>(http1::chunk_header_room + block + http1::chunk_trailer_room);
  char* const data = buf.get() + http1::chunk_header_room;
  for (std::uint64_t sent = 0;;) {
    std::size_t n = 0;
    if (auto ec = co_await next_block(body, sent, data, block, n)) co_return ec;
    if (n == 0) {
      if (!body.chunked) co_return std::error_code{};
      const auto ec = co_await write_all(s, d, http1::last_chunk, {}, watch);
      if (!ec) counters.bytes_sent.add(http1::last_chunk.size());
      co_return ec;
    }
    const std::string_view piece = body.chunked ? http1::frame_chunk(data, n) : std::string_view(data, n);
    if (const auto ec = co_await write_all(s, d, piece, {}, watch)) co_return ec;
    counters.bytes_sent.add(piece.size());
    if (watch != nullptr && watch->responded()) co_return std::error_code{};  // the server has answered
    sent += n;
  }
}

}  // namespace sentinel::detail
