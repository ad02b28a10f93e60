// sentinel: opening a stream (resolve, connect, tunnel, TLS). See connect.hpp.
#include "transport/connect.hpp"

#include "http1/parser.hpp"
#include "transport/cancel.hpp"

#include <asio/redirect_error.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace sentinel::detail {
namespace {

// Writes all of `bytes` (a short request) on a TCP stream.
asio::awaitable<std::error_code> write_all(stream& s, std::string_view bytes, const deadline_set& d) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    std::error_code ec;
    done += s.try_write({asio::buffer(bytes.data() + done, bytes.size() - done), asio::const_buffer()}, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return d.fired_or(ec);
    if (done == bytes.size()) break;
    co_await s.async_wait_writable(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return d.fired_or(ec);
  }
  co_return std::error_code{};
}

// RFC 9110 §9.3.6: CONNECT host:port through the proxy; a 2xx opens the tunnel.
asio::awaitable<std::error_code> tunnel(stream& s, const route& r, deadline_set& d,
                                        client_counters& counters) {
  const url& t = *r.target;
  const std::string authority = t.host_port();  // always with the port; IPv6 hosts in brackets
  std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!r.proxy_authorization.empty()) {
    req += "Proxy-Authorization: ";
    req += r.proxy_authorization;
    req += "\r\n";
  }
  req += "\r\n";
  if (auto ec = co_await write_all(s, req, d)) co_return ec;

  // Only the status of the answer matters; its head must fit a small buffer (the proxy's, not the
  // origin's: nothing after it is read here, since the server speaks only after our ClientHello).
  http1::response_parser parser;
  parser.reset(http1::request_kind::connect);
  std::string buf;
  std::array<char, 4096> chunk;
  for (;;) {
    std::error_code ec;
    co_await s.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return d.fired_or(ec);
    const std::size_t n = s.try_read(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (is_end_of_stream(ec)) co_return make_error_code(error::proxy_error);  // the proxy hung up on us
    if (ec) co_return ec;
    buf.append(chunk.data(), n);
    counters.bytes_received.add(n);
    const std::size_t head = parser.parse_head(buf.data(), buf.size(), ec);
    if (ec) co_return ec;
    if (head == 0) continue;
    if (parser.head().interim()) {  // a 1xx before the answer: skip it
      buf.erase(0, head);
      continue;
    }
    // 2xx opens the tunnel; the proxy must then stay silent until the server speaks (after our TLS
    // ClientHello): stray bytes would be read as TLS.
    const int status = parser.head().status;
    if (status < 200 || status > 299 || head != buf.size()) co_return make_error_code(error::proxy_error);
    co_return std::error_code{};
  }
}

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
      if (r.tunnel && (ec = co_await tunnel(s, r, d, ctx.counters))) {
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
  d.end_phase();
  if (ec) {
    d.clear();
    s.close();
  }
  co_return ec;
}

}  // namespace sentinel::detail
