// sentinel test support: bodies compressed with zlib, so decoder tests at every depth (unit, loopback,
// CLI) build their inputs the same way.
#pragma once

#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>
#include <string_view>

namespace sentinel::test {

/// `in` as one stream made by zlib: window_bits 31 is a gzip member, 15 a zlib stream, -15 raw deflate.
inline std::string deflate_with(std::string_view in, int window_bits = 31, int level = 6) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  deflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  out.resize(z.total_out);
  return out;
}

/// `in` as one gzip member.
inline std::string gzip(std::string_view in) {
  return deflate_with(in, 31);
}

}  // namespace sentinel::test
