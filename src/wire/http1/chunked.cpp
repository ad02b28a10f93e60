// sentinel: chunked framing of request bodies. See chunked.hpp.
#include "wire/http1/chunked.hpp"

#include <charconv>
#include <cstring>

namespace sentinel::http1 {

std::string_view frame_chunk(char* data, std::size_t n) noexcept {
  // chunk-size in hex, CRLF, data, CRLF.
  char size[chunk_header_room];
  const auto r = std::to_chars(size, size + chunk_header_room - 2, static_cast<std::uint64_t>(n), 16);
  std::size_t len = static_cast<std::size_t>(r.ptr - size);
  size[len++] = '\r';
  size[len++] = '\n';
  std::memcpy(data - len, size, len);
  data[n] = '\r';
  data[n + 1] = '\n';
  return std::string_view(data - len, len + n + 2);
}

}  // namespace sentinel::http1
