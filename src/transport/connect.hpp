// sentinel: opening a stream: resolve (with the client's cache), connect to each address in turn within
// its budget, the CONNECT tunnel through an HTTP proxy, and the TLS handshake (verification, SNI, the
// ALPN list the caller asks for, resumption). Protocol-neutral: HTTP/1 connections use it today, HTTP/2
// will use the same path with another ALPN list.
#pragma once

#include "transport/context.hpp"
#include "transport/counters.hpp"
#include "transport/deadlines.hpp"
#include "transport/stream.hpp"

#include <sentinel/response.hpp>
#include <sentinel/url.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel::detail {

/// Where a connection goes: straight to the target origin, or through an HTTP proxy.
struct route {
  const url* target = nullptr;           // the origin the requests are for
  const url* proxy = nullptr;            // connect here instead (http:// proxies only), or nullptr
  bool tunnel = false;                   // through the proxy with CONNECT (for https:// targets)
  std::string_view proxy_authorization;  // the Proxy-Authorization value, or empty
};

/// Opens a CONNECT tunnel through the proxy that `s` is connected to, within `d`. The HTTP/1 layer
/// provides it (http1/tunnel.hpp): the transport speaks no HTTP itself, so the dependency points down.
using tunnel_fn = asio::awaitable<std::error_code> (*)(stream& s, const route& r, deadline_set& d,
                                                       transport_counters& counters);

/// How to open one stream.
struct connect_params {
  clock::duration connect_timeout{};  // per address: TCP connect, then tunnel and TLS in what remains
  std::string_view session_key;       // the TLS session cache key (the pool key of the connection)
  std::span<const std::string_view> alpn;
  tunnel_fn tunnel = nullptr;  // required for routes with `tunnel`
};

/// What connect() tells beyond its error code: where it got to, and where it failed.
struct connect_report {
  bool attempted = false;      // a connection was attempted (set by the pool, which calls connect())
  tcp::endpoint peer;          // on success: the address connected to (unset over a test connector)
  phase failed = phase::none;  // on failure: the phase that failed
  std::string endpoint;        // on failure: what it talked to ("host:port" or "address:port")
};

/// "address:port", an IPv6 address in brackets.
std::string endpoint_text(const tcp::endpoint& ep);

/// Opens `s` along `r`. `d` carries the caller's total deadline in and gets the connect phase; `life`
/// owns the caller (for the deadline timer). On failure `s` is closed and the error says why:
/// resolve_timeout / connect_timeout / request_timeout, the resolver's or the socket's error,
/// proxy_error, a certificate_* or tls error, alpn_mismatch when the server chose a protocol not in
/// `p.alpn`, operation_aborted when cancelled; `report` says where. The stream's alpn_protocol() then
/// says which protocol to speak (empty: the server chose none).
asio::awaitable<std::error_code> connect(connection_context& ctx, const route& r, const connect_params& p,
                                         stream& s, deadline_set& d, std::weak_ptr<void> life,
                                         connect_report& report);

}  // namespace sentinel::detail
