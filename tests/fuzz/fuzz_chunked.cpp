// libFuzzer target: chunked bodies (RFC 9112 §7.1): chunk-size lines, extensions, chunk data, the last
// chunk and the trailer section.
//
// Input: one mode byte (as in fuzz_response.cpp, but the request kind is always a normal GET so that the
// body is parsed), then the bytes that follow a fixed "Transfer-Encoding: chunked" head. Whatever follows
// the chunked body is parsed as the next keep-alive response.
#include "response_driver.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {
constexpr std::string_view chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string wire;
  wire.reserve(chunked_head.size() + size - 1);
  wire += chunked_head;
  wire.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  sentinel::fuzz::stream_mode mode = sentinel::fuzz::decode_mode(data[0], wire.size());
  mode.kind_pattern = 0;
  sentinel::fuzz::check_stream(wire, mode);
  return 0;
}
