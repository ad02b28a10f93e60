// sentinel: writing requests and their bodies. See upload.hpp.
#include "http1/upload.hpp"

#include "transport/cancel.hpp"
#include "wire/http1/chunked.hpp"

#include <asio/this_coro.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace sentinel::detail {

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
