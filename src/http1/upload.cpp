// sentinel: writing requests and their bodies. See upload.hpp.
#include "http1/upload.hpp"

#include "session/body_blocks.hpp"
#include "wire/http1/chunked.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>

namespace sentinel::detail {

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
