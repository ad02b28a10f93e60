// sentinel: making a client's sessions. See sessions.hpp.
#include "protocols/sessions.hpp"

#include "http1/connection.hpp"
#include "http1/tunnel.hpp"
#ifdef SENTINEL_HAS_HTTP2
#include "http2/session.hpp"
#endif

#include <array>

namespace sentinel::detail {
namespace {
constexpr std::array<std::string_view, 1> http1_only{"http/1.1"};
[[maybe_unused]] constexpr std::array<std::string_view, 2> h2_preferred{"h2", "http/1.1"};
[[maybe_unused]] constexpr std::array<std::string_view, 1> h2_only{"h2"};
}  // namespace

session_factory make_session_factory(std::shared_ptr<connection_context> ctx, const limit_options& limits,
                                     const connection_pool_options& pool) {
  const http1::parser_limits parser{limits.max_head_bytes, limits.max_header_count, limits.max_body_bytes,
                                    limits.max_chunk_line_bytes, limits.max_header_line_bytes};
  session_factory f;
  f.tunnel = &open_tunnel;
  // connect() lets through only what was offered, so "h2" comes only from a request that asked for it.
#ifdef SENTINEL_HAS_HTTP2
  const http2::connection_options h2{
      pool.max_streams_per_connection,
      {parser.max_head_bytes, parser.max_header_count, parser.max_header_line_bytes},
      pool.ping_after_idle,
      {}};  // flood_limits: the defaults
#else
  (void)pool;
  const int h2 = 0;
#endif
  f.make = [ctx = std::move(ctx), parser, h2](const std::string& origin, std::string_view protocol,
                                              std::shared_ptr<link> l) -> std::unique_ptr<session> {
#ifdef SENTINEL_HAS_HTTP2
    if (protocol == "h2") return std::make_unique<http2::connection>(ctx, origin, std::move(l), h2);
#else
    (void)protocol, (void)h2;
#endif
    return std::make_unique<connection>(ctx, origin, parser, std::move(l));
  };
  return f;
}

protocol_offer offer_for(http_version v, bool https, bool forward_proxy) noexcept {
  protocol_offer o;
  o.alpn = http1_only;
#ifdef SENTINEL_HAS_HTTP2
  if (forward_proxy || v == http_version::http1_1) return o;
  if (v == http_version::http2_prior_knowledge) {
    o.alpn = https ? std::span<const std::string_view>(h2_only) : std::span<const std::string_view>();
    o.assumed = "h2";
  } else if (https) {
    o.alpn = h2_preferred;  // http:// stays HTTP/1.1: no Upgrade dance (RFC 9113 §3.1)
  } else {
    return o;
  }
  o.may_multiplex = true;
#else
  (void)v, (void)https, (void)forward_proxy;
#endif
  return o;
}

std::string_view offer_key_suffix(const protocol_offer& offer) noexcept {
  if (!offer.may_multiplex) return {};
  return offer.assumed == "h2" ? " h2-only" : " h2";
}

}  // namespace sentinel::detail
