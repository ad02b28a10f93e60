// sentinel: making a client's sessions. See sessions.hpp.
#include "protocols/sessions.hpp"

#include "http1/connection.hpp"

namespace sentinel::detail {

session_factory make_session_factory(std::shared_ptr<connection_context> ctx, const limit_options& limits) {
  const http1::parser_limits parser{limits.max_head_bytes, limits.max_header_count, limits.max_body_bytes,
                                    limits.max_chunk_line_bytes, limits.max_header_line_bytes};
  return [ctx = std::move(ctx), parser](const std::string& origin) -> std::unique_ptr<session> {
    return std::make_unique<connection>(ctx, origin, parser);
  };
}

}  // namespace sentinel::detail
