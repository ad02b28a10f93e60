// sentinel: making a client's sessions. See sessions.hpp.
#include "protocols/sessions.hpp"

#include "http1/connection.hpp"
#include "http1/tunnel.hpp"

#include <array>

namespace sentinel::detail {
namespace {
constexpr std::array<std::string_view, 1> offered{"http/1.1"};
}  // namespace

session_factory make_session_factory(std::shared_ptr<connection_context> ctx, const limit_options& limits) {
  const http1::parser_limits parser{limits.max_head_bytes, limits.max_header_count, limits.max_body_bytes,
                                    limits.max_chunk_line_bytes, limits.max_header_line_bytes};
  session_factory f;
  f.alpn = offered;
  f.tunnel = &open_tunnel;
  // connect() lets through only "http/1.1" or no choice at all (plain TCP, a server without ALPN): both
  // are HTTP/1.1.
  f.make = [ctx = std::move(ctx), parser](const std::string& origin, std::string_view /*protocol*/,
                                          std::shared_ptr<link> l) -> std::unique_ptr<session> {
    return std::make_unique<connection>(ctx, origin, parser, std::move(l));
  };
  return f;
}

}  // namespace sentinel::detail
