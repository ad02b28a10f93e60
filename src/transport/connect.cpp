// sentinel: opening a stream (resolve, connect, tunnel, TLS). See connect.hpp.
#include "transport/connect.hpp"

#include "transport/cancel.hpp"

#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace sentinel::detail {
namespace {

// TCP to the first address that answers; each address gets the whole connect budget (a dead first
// address must not starve the second).
asio::awaitable<std::error_code> connect_tcp(connection_context& ctx, const route& r, const connect_params& p,
                                             stream& s, deadline_set& d, const std::weak_ptr<void>& life,
                                             connect_report& report) {
  const url& name = r.proxy ? *r.proxy : *r.target;
  std::vector<tcp::endpoint> endpoints;
  std::error_code ec =
      co_await ctx.dns.resolve(name, endpoints, std::min(deadline_after(p.connect_timeout), d.total()));
  if (ec || endpoints.empty()) {
    if (ec == error::resolve_timeout && clock::now() >= d.total()) ec = error::request_timeout;
    report.failed = phase::resolve;
    report.endpoint = name.host_port();
    co_return ec ? ec : make_error_code(asio::error::host_not_found);
  }
  std::error_code last;
  for (const auto& ep : endpoints) {
    auto& sock = s.socket();
    std::error_code ignored;
    sock.close(ignored);
    d.reset_fired();
    report.peer = ep;
    sock.open(ep.protocol(), ec);
    if (ec) {
      last = ec;
      continue;
    }
    d.set_phase(deadline_after(p.connect_timeout), error::connect_timeout);
    d.arm(life);
    co_await sock.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    ec = d.fired_or(ec);
    if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
      ec = asio::error::operation_aborted;
    if (!ec) co_return s.prepare_socket();
    last = ec;
    // The caller's cancellation and the total deadline end the attempt; a per-address failure does not.
    if (ec == asio::error::operation_aborted || ec == error::request_timeout) break;
  }
  report.failed = phase::connect;
  report.endpoint = endpoint_text(report.peer);  // the last address tried
  co_return last;
}

asio::awaitable<std::error_code> handshake(connection_context& ctx, const url& u, const connect_params& p,
                                           stream& s, const deadline_set& d) {
  std::error_code ec = s.start_tls(ctx.tls(), u, std::string(p.session_key), p.alpn);
  if (ec) co_return ec;
  co_await s.tls()->async_handshake(asio::ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state)) ec = asio::error::operation_aborted;
  if (ec) {
    co_return d.fired() || ec == asio::error::operation_aborted ? d.fired_or(ec)
                                                                : map_tls_error(ec, s.tls()->native_handle());
  }
  const bool resumed = SSL_session_reused(s.tls()->native_handle()) == 1;
  ctx.tls().count_handshake(resumed);
  ctx.counters.tls_handshakes.add();
  if (resumed) ctx.counters.tls_resumed.add();
  co_return std::error_code{};
}

// The protocol the server chose must be one we offered (OpenSSL checks this itself for TLS; a device
// reports its own). None chosen is fine: the caller's default protocol applies.
std::error_code check_alpn(const stream& s, const connect_params& p) noexcept {
  const std::string_view chosen = s.alpn_protocol();
  if (chosen.empty() || std::find(p.alpn.begin(), p.alpn.end(), chosen) != p.alpn.end()) return {};
  return make_error_code(error::alpn_mismatch);
}

}  // namespace

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto a = ep.address();
  std::string out = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  out += ':';
  out += std::to_string(ep.port());
  return out;
}

asio::awaitable<std::error_code> connect(connection_context& ctx, const route& r, const connect_params& p,
                                         stream& s, deadline_set& d, std::weak_ptr<void> life,
                                         connect_report& report) {
  d.reset_fired();
  report.failed = phase::none;
  std::error_code ec;
  if (ctx.connector) {
    ec = co_await ctx.connector(r, s);
    if (!ec) ctx.counters.connections_opened.add();
    if (ec) {
      report.failed = phase::connect;
      report.endpoint = (r.proxy ? *r.proxy : *r.target).host_port();
    }
  } else {
    ec = co_await connect_tcp(ctx, r, p, s, d, life, report);
    if (!ec) {
      ctx.counters.connections_opened.add();
      // Through a proxy, an https:// target is reached through a CONNECT tunnel, within the same budget.
      if (r.tunnel && (ec = p.tunnel != nullptr ? co_await p.tunnel(s, r, d, ctx.counters)
                                                : make_error_code(error::internal))) {
        report.failed = phase::proxy;
        report.endpoint = endpoint_text(report.peer);
      }
      if (!ec && r.target->is_https() && (ec = co_await handshake(ctx, *r.target, p, s, d))) {
        report.failed = phase::tls;
        // Through a tunnel the handshake is with the origin, beyond the proxy's address.
        report.endpoint = r.tunnel ? r.target->host_port() : endpoint_text(report.peer);
      }
    }
  }
  if (!ec && (ec = check_alpn(s, p))) {
    report.failed = phase::tls;
    report.endpoint = r.target->host_port();
  }
  d.end_phase();
  if (ec) {
    d.clear();
    s.close();
  }
  co_return ec;
}

}  // namespace sentinel::detail
