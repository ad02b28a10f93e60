// libFuzzer target: the HTTP/1.1 response parser, driven like a connection (see response_driver.hpp).
//
// Input: one mode byte, then the bytes a server sends. The mode byte picks the request kind (normal, HEAD,
// CONNECT, or a cycle of the three over keep-alive responses), how the bytes are split into arrivals, the
// parser limits, and whether the peer closes at the end (decode_mode()). The bytes are fed as one buffer
// and again in pieces; both feeds check every parser invariant and must reach the same outcome.
#include "response_driver.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  sentinel::fuzz::check_stream(wire, sentinel::fuzz::decode_mode(data[0], wire.size()));
  return 0;
}
