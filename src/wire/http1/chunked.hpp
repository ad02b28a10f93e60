// sentinel: chunked transfer coding for request bodies (RFC 9112 §7.1). Pure code: no Asio, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sentinel::http1 {

/// Room to leave before a chunk's data for its size line, and after it for the CRLF.
inline constexpr std::size_t chunk_header_room = 18;  // 16 hex digits + CRLF
inline constexpr std::size_t chunk_trailer_room = 2;
/// The last chunk and an empty trailer section.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// Frames `n` bytes at `data` as one chunk in place: writes the size line just before `data` and CRLF
/// just after (the caller left chunk_header_room before and chunk_trailer_room after) and returns the
/// whole chunk. `n` must not be 0 (that is last_chunk).
std::string_view frame_chunk(char* data, std::size_t n) noexcept;

}  // namespace sentinel::http1
