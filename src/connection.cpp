// sentinel: one HTTP/1.1 connection. See connection.hpp for the reading and deadline design.
#include "connection.hpp"

#include "cancel.hpp"
#include "client_core.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace sentinel::detail {
namespace {

constexpr auto never = clock::time_point::max();
constexpr std::size_t tls_buffer_initial = 16 * 1024;

clock::time_point after(clock::duration d) noexcept {
  return d.count() > 0 ? clock::now() + d : never;
}

bool is_eof(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

connection::connection(std::shared_ptr<client_core> core, std::string origin)
    : core_(std::move(core)), origin_(std::move(origin)), stream_(core_->ex), timer_(core_->ex) {
  const auto& l = core_->opts.limits;
  parser_.set_limits({l.max_head_bytes, l.max_header_count, l.max_body_bytes, l.max_chunk_line_bytes,
                      l.max_header_line_bytes});
  core_->pool.track(this);
}

connection::~connection() {
  core_->pool.untrack(this);
  stream_.close();
}

// ---- deadlines ----------------------------------------------------------------------------------------

void connection::arm() noexcept {
  const auto next = std::min({total_deadline_, phase_deadline_, idle_deadline_, continue_deadline_});
  if (next == never) return;
  if (timer_pending_ && timer_at_ <= next) return;  // it fires first and re-arms for `next` then
  timer_at_ = next;
  timer_pending_ = true;
  timer_.expires_at(next);  // cancels a pending wait: its handler sees a stale generation
  timer_.async_wait([weak = weak_from_this(), gen = ++timer_gen_](std::error_code ec) {
    if (auto self = weak.lock()) self->on_timer(ec, gen);
  });
}

void connection::on_timer(std::error_code ec, std::uint64_t generation) noexcept {
  if (generation != timer_gen_) return;
  timer_pending_ = false;
  timer_at_ = never;
  if (ec) return;
  const auto now = clock::now();
  if (total_deadline_ <= now) {
    fired_ = error::request_timeout;
  } else if (phase_deadline_ <= now) {
    fired_ = phase_error_;
  } else if (idle_deadline_ <= now) {
    fired_ = error::idle_timeout;
  } else if (continue_deadline_ <= now) {
    // Not an error: the server did not answer Expect: 100-continue in time, so the body goes anyway.
    continue_deadline_ = never;
    continue_expired_ = true;
  } else {
    arm();
    return;
  }
  std::error_code ignored;
  stream_.socket().cancel(ignored);  // the pending read/write/connect completes with operation_aborted
}

void connection::clear_deadlines() noexcept {
  total_deadline_ = phase_deadline_ = idle_deadline_ = continue_deadline_ = never;
  idle_timeout_ = {};
}

void connection::stop_timer() noexcept {
  clear_deadlines();
  if (!timer_pending_) return;
  ++timer_gen_;
  timer_pending_ = false;
  timer_at_ = never;
  timer_.cancel();
}

std::error_code connection::fired_or(std::error_code ec) const noexcept {
  if (fired_) return make_error_code(*fired_);
  return ec;
}

// ---- open ---------------------------------------------------------------------------------------------

asio::awaitable<std::error_code> connection::open(const route& r, clock::duration connect_timeout,
                                                  clock::time_point total_deadline) {
  const url& u = *r.target;
  fired_.reset();
  total_deadline_ = total_deadline;
  std::vector<tcp::endpoint> endpoints;
  std::error_code ec = co_await core_->dns.resolve(r.proxy ? *r.proxy : u, endpoints,
                                                   std::min(after(connect_timeout), total_deadline));
  if (ec) {
    if (ec == error::resolve_timeout && clock::now() >= total_deadline) ec = error::request_timeout;
    co_return ec;
  }

  // Each address gets the whole connect budget (a dead first address must not starve the second).
  std::error_code last;
  bool connected = false;
  for (const auto& ep : endpoints) {
    auto& sock = stream_.socket();
    std::error_code ignored;
    sock.close(ignored);
    fired_.reset();
    sock.open(ep.protocol(), ec);
    if (ec) {
      last = ec;
      continue;
    }
    phase_deadline_ = after(connect_timeout);
    phase_error_ = error::connect_timeout;
    arm();
    co_await sock.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    ec = fired_or(ec);
    if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
      ec = asio::error::operation_aborted;
    if (!ec) {
      connected = true;
      break;
    }
    last = ec;
    // The caller's cancellation and the total deadline end the attempt; a per-address failure does not.
    if (ec == asio::error::operation_aborted || ec == error::request_timeout) break;
  }
  if (!connected) {
    clear_deadlines();
    stream_.close();
    co_return last ? last : make_error_code(asio::error::host_not_found);
  }

  auto& sock = stream_.socket();
  sock.set_option(tcp::no_delay(true), ec);
  if (!ec) sock.non_blocking(true, ec);  // reads and writes are tried synchronously first
  if (ec) co_return ec;
  core_->counters.connections_opened.add();

  // Through a proxy, an https:// target is reached through a CONNECT tunnel, within the same budget.
  if (r.tunnel) ec = co_await tunnel(r);
  if (!ec && u.is_https()) {
    ec = stream_.start_tls(core_->tls(), u, origin_);
    if (!ec) {
      co_await stream_.tls()->async_handshake(asio::ssl::stream_base::client,
                                              asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
        ec = asio::error::operation_aborted;
      if (ec) {
        ec = fired_ || ec == asio::error::operation_aborted
                 ? fired_or(ec)
                 : map_tls_error(ec, stream_.tls()->native_handle());
      } else {
        const bool resumed = SSL_session_reused(stream_.tls()->native_handle()) == 1;
        core_->tls().count_handshake(resumed);
        core_->counters.tls_handshakes.add();
        if (resumed) core_->counters.tls_resumed.add();
      }
    }
  }
  phase_deadline_ = never;
  if (ec) {
    clear_deadlines();
    stream_.close();
    co_return ec;
  }
  reusable_ = true;
  co_return std::error_code{};
}

// ---- CONNECT tunnel -------------------------------------------------------------------------------------

namespace {
// Reads only the status of the proxy's answer to CONNECT (its body, if any, is never used).
class connect_reply final : public response_consumer {
 public:
  int status = 0;
  std::error_code on_head(response& res) override {
    status = res.status();
    return {};
  }
  std::error_code on_body(std::string_view) override { return {}; }
  std::error_code on_end(response&) override { return {}; }
};
}  // namespace

asio::awaitable<std::error_code> connection::tunnel(const route& r) {
  // RFC 9110 §9.3.6: CONNECT host:port, always with the port; IPv6 hosts in brackets.
  const url& t = *r.target;
  std::string authority;
  if (t.host_is_ipv6()) authority += '[';
  authority += t.host();
  if (t.host_is_ipv6()) authority += ']';
  authority += ':' + std::to_string(t.port());
  std::string req = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!r.proxy_authorization.empty()) {
    req += "Proxy-Authorization: ";
    req += r.proxy_authorization;
    req += "\r\n";
  }
  req += "\r\n";
  if (auto ec = co_await write_all(req, {})) co_return ec;

  connect_reply reply;
  response res;
  parser_.reset(http1::request_kind::connect);
  consumer_ = &reply;
  spill_.clear();
  own_len_ = 0;
  exchange_bytes_ = 0;
  wait_first_ = true;
  std::error_code ec;
  for (;;) {
    chunk c;
    ec = co_await fill(c);
    if (ec) {
      if (is_eof(ec)) ec = make_error_code(error::proxy_error);  // the proxy hung up on us
      break;
    }
    std::size_t consumed = 0;
    ec = process(c, consumed, res);
    if (ec) break;
    if (parser_.head_done()) {
      // 2xx opens the tunnel; the proxy must then stay silent until the server speaks (after our TLS
      // ClientHello): stray bytes would be read as TLS.
      if (reply.status < 200 || reply.status > 299 || consumed != c.size)
        ec = make_error_code(error::proxy_error);
      break;
    }
    keep(c, consumed);
  }
  spill_.clear();
  own_len_ = 0;
  exchange_bytes_ = 0;
  consumer_ = nullptr;
  co_return ec;
}

// ---- exchange -----------------------------------------------------------------------------------------

asio::awaitable<exchange_outcome> connection::exchange(std::string_view head, const outgoing_body& body,
                                                       const exchange_params& params, response& res) {
  exchange_outcome out;
  reusable_ = false;  // until a complete, reusable response proves otherwise
  exchange_bytes_ = 0;
  fired_.reset();
  continue_expired_ = continue_received_ = false;
  total_deadline_ = params.total_deadline;
  phase_deadline_ = after(params.response_head_timeout);
  phase_error_ = error::response_timeout;
  idle_timeout_ = params.idle_read_timeout;
  idle_deadline_ = never;
  arm();

  auto limits = parser_.limits();
  limits.max_body_bytes = params.max_body_bytes;
  parser_.set_limits(limits);
  parser_.reset(params.kind);
  consumer_ = params.consumer;
  spill_.clear();
  own_len_ = 0;

  // The head, and an in-memory body with it in one write. A body held back for 100 Continue, and file
  // and source bodies, follow separately.
  bool body_pending = !body.empty() && (body.expect_continue || !body.in_memory());
  const std::string_view first_body =
      body.in_memory() && !body.expect_continue ? body.data : std::string_view{};
  out.ec = co_await write_all(head, first_body);
  core_->counters.bytes_sent.add(head.size() + first_body.size());
  if (!out.ec && body_pending && !body.expect_continue) {
    out.ec = co_await send_body(body);
    body_pending = false;
  }
  if (out.ec) {
    clear_deadlines();
    co_return out;
  }
  if (body_pending) {
    continue_deadline_ = after(body.continue_timeout);
    arm();
  } else {
    out.request_written = true;
  }

  wait_first_ = true;  // the response cannot be there yet: skip the read that would say EAGAIN
  for (;;) {
    chunk c;
    std::error_code ec = co_await fill(c);
    if (ec) {
      if (!is_eof(ec)) {
        out.ec = ec;
        break;
      }
      // The peer closed. Complete only an until-close body, and over TLS only after close_notify: a
      // truncated TLS stream could be an attacker cutting the body short (RFC 9112 §9.8).
      if (exchange_bytes_ == 0) {
        out.ec = error::empty_reply;
      } else {
        parser_.on_eof(out.ec);
        if (!out.ec && ec == asio::ssl::error::stream_truncated) out.ec = error::unexpected_eof;
      }
      if (!out.ec && parser_.done()) {
        reusable_ = false;
        out.ec = consumer_->on_end(res);  // an until-close body ends here
      }
      break;
    }
    std::size_t consumed = 0;
    out.ec = process(c, consumed, res);
    if (out.ec) break;
    if (parser_.done()) {
      // Bytes after the response would be a reply to a request we never sent; and a body we held back
      // for 100 Continue was never sent, so the server may still be waiting for it: do not reuse.
      reusable_ = parser_.head().keep_alive && consumed == c.size && !body_pending;
      break;
    }
    keep(c, consumed);
    if (body_pending && (continue_received_ || continue_expired_)) {
      continue_deadline_ = never;
      continue_expired_ = false;
      body_pending = false;
      out.ec = co_await send_body(body);
      if (out.ec) break;
      out.request_written = true;
    }
  }
  out.bytes_received = exchange_bytes_;
  res.info().bytes_received = exchange_bytes_;
  spill_.clear();
  own_len_ = 0;
  if (out.ec) reusable_ = false;
  if (!out.ec) ++served_;
  clear_deadlines();
  co_return out;
}

asio::awaitable<std::error_code> connection::write_all(std::string_view head, std::string_view body) {
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head.data(), head.size()),
                                         asio::buffer(body.data(), body.size())};
  std::error_code ec;
  if (fired_) co_return fired_or(ec);
  if (auto* tls = stream_.tls()) {
    co_await asio::async_write(*tls, bufs, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
      ec = asio::error::operation_aborted;
    co_return fired_or(ec);
  }
  // One non-blocking sendmsg nearly always takes the whole request; only a remainder needs the reactor.
  auto& sock = stream_.socket();
  std::size_t n = sock.write_some(bufs, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  if (n == head.size() + body.size()) co_return std::error_code{};
  if (n < head.size()) {
    bufs[0] = asio::buffer(head.data() + n, head.size() - n);
  } else {
    bufs[0] = asio::const_buffer();
    bufs[1] = asio::buffer(body.data() + (n - head.size()), body.size() - (n - head.size()));
  }
  ec.clear();
  co_await asio::async_write(sock, bufs, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state)) ec = asio::error::operation_aborted;
  co_return fired_or(ec);
}

asio::awaitable<std::error_code> connection::send_body(const outgoing_body& body) {
  if (body.in_memory()) {
    const auto ec = co_await write_all(body.data, {});
    if (!ec) core_->counters.bytes_sent.add(body.data.size());
    co_return ec;
  }
  // Files and sources go out in blocks through one buffer per exchange (uploads are rare next to
  // requests, so it is allocated here rather than kept per connection). Room is left around each block
  // for chunk framing, so a chunk is one write.
  constexpr std::size_t block = 64 * 1024, frame = 16;
  auto buf = std::make_unique<char[]>(block + 2 * frame);
  char* const data = buf.get() + frame;
  std::uint64_t sent = 0;
  for (;;) {
    std::size_t n = 0;
    if (body.fd >= 0) {
      if (sent == *body.length) break;
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(block, *body.length - sent));
      const auto r = ::pread(body.fd, data, want, static_cast<off_t>(sent));
      if (r < 0) co_return std::error_code(errno, std::system_category());
      if (r == 0) co_return make_error_code(error::invalid_request);  // the file shrank while we sent it
      n = static_cast<std::size_t>(r);
    } else {
      n = co_await (*body.source)(std::span<char>(data, block));
      if (was_cancelled(co_await asio::this_coro::cancellation_state))
        co_return asio::error::operation_aborted;
      if (n > block) co_return make_error_code(error::invalid_request);
      if (body.length && sent + n > *body.length) co_return make_error_code(error::invalid_request);
      if (n == 0) {
        if (body.length && sent != *body.length) co_return make_error_code(error::invalid_request);
        if (body.chunked) {
          const auto ec = co_await write_all("0\r\n\r\n", {});
          if (!ec) core_->counters.bytes_sent.add(5);
          co_return ec;
        }
        break;
      }
    }
    std::string_view piece(data, n);
    if (body.chunked) {
      // RFC 9112 §7.1: chunk-size in hex, CRLF, data, CRLF.
      char size[frame];
      const auto r = std::to_chars(size, size + frame - 2, n, 16);
      std::size_t len = static_cast<std::size_t>(r.ptr - size);
      size[len++] = '\r';
      size[len++] = '\n';
      std::memcpy(data - len, size, len);
      data[n] = '\r';
      data[n + 1] = '\n';
      piece = std::string_view(data - len, len + n + 2);
    }
    if (const auto ec = co_await write_all(piece, {})) co_return ec;
    core_->counters.bytes_sent.add(piece.size());
    sent += n;
  }
  co_return std::error_code{};
}

asio::awaitable<std::error_code> connection::fill(chunk& c) {
  std::error_code ec;
  if (auto* tls = stream_.tls()) {
    if (!own_) {
      own_cap_ = tls_buffer_initial;
      own_ = std::make_unique<char[]>(own_cap_);
    }
    if (own_len_ == own_cap_) {
      // Only an unfinished head or trailer block can fill the buffer (the parser bounds both).
      const std::size_t cap = own_cap_ * 2;
      auto bigger = std::make_unique<char[]>(cap);
      std::memcpy(bigger.get(), own_.get(), own_len_);
      own_ = std::move(bigger);
      own_cap_ = cap;
    }
    if (fired_) co_return fired_or(ec);
    if (continue_expired_) {  // see the TCP path below
      c = {own_.get(), own_len_};
      co_return std::error_code{};
    }
    // The idle timeout runs from the first response byte on. Before it, the server is still working on
    // its answer, which is response_head's to bound: otherwise an idle_read shorter than response_head (as
    // in the defaults) would cut every slow answer short, and with the wrong error.
    if (idle_timeout_.count() > 0 && exchange_bytes_ > 0) {
      idle_deadline_ = clock::now() + idle_timeout_;
      arm();
    }
    const std::size_t n =
        co_await tls->async_read_some(asio::buffer(own_.get() + own_len_, own_cap_ - own_len_),
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && was_cancelled(co_await asio::this_coro::cancellation_state))
      ec = asio::error::operation_aborted;
    if (ec) {
      c = {own_.get(), own_len_};
      if (ec == asio::error::operation_aborted && !fired_ && continue_expired_) co_return std::error_code{};
      co_return fired_or(ec);
    }
    own_len_ += n;
    exchange_bytes_ += n;
    core_->counters.bytes_received.add(n);
    c = {own_.get(), own_len_};
    co_return std::error_code{};
  }

  auto& sock = stream_.socket();
  char* const buf = core_->read_buffer();
  const std::size_t cap = core_->read_buffer_size();
  for (;;) {
    if (fired_) co_return fired_or(ec);
    if (continue_expired_) {
      // The Expect: 100-continue wait is over: hand back what we have (maybe nothing), so the body goes.
      const std::size_t k = spill_.size();
      if (k > 0) std::memcpy(buf, spill_.data(), k);
      spill_.clear();
      c = {buf, k};
      co_return std::error_code{};
    }
    if (!wait_first_) {
      // The shared buffer is ours only until we suspend: bring back our unfinished bytes, read, and
      // parse before the next co_await (see connection.hpp).
      const std::size_t k = spill_.size();
      if (k > 0) std::memcpy(buf, spill_.data(), k);
      const std::size_t n = sock.read_some(asio::buffer(buf + k, cap - k), ec);
      if (!ec) {
        exchange_bytes_ += n;
        core_->counters.bytes_received.add(n);
        spill_.clear();
        c = {buf, k + n};
        co_return std::error_code{};
      }
      if (ec == asio::error::eof) {
        spill_.clear();
        c = {buf, k};
        co_return ec;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
      ec.clear();
    }
    wait_first_ = false;
    if (idle_timeout_.count() > 0 && exchange_bytes_ > 0) {  // from the first byte on (see above)
      idle_deadline_ = clock::now() + idle_timeout_;
      arm();
    }
    co_await sock.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted && !fired_ && continue_expired_) continue;  // see the loop's top
    if (ec) co_return fired_or(ec);
    if (was_cancelled(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
  }
}

void connection::keep(const chunk& c, std::size_t consumed) {
  const std::size_t rest = c.size - consumed;
  if (stream_.is_tls()) {
    if (consumed > 0 && rest > 0) std::memmove(own_.get(), own_.get() + consumed, rest);
    own_len_ = rest;
  } else {
    spill_.assign(c.data + consumed, rest);
  }
}

std::error_code connection::process(chunk& c, std::size_t& pos, response& res) {
  std::error_code ec;
  pos = 0;
  while (!parser_.done()) {
    if (!parser_.head_done()) {
      const std::size_t n = parser_.parse_head(c.data + pos, c.size - pos, ec);
      if (ec) return ec;
      if (n == 0) return {};  // the head is not complete yet
      if (parser_.head().interim()) {
        if (parser_.head().status == 100) continue_received_ = true;
        pos += n;  // 100 Continue, 103 Early Hints: skipped, the final response follows
        continue;
      }
      copy_head(res);
      pos += n;
      phase_deadline_ = never;  // the head arrived: only the idle and total deadlines remain
      if (auto e = consumer_->on_head(res)) return e;
      if (parser_.done()) return consumer_->on_end(res);  // a response without a body
      continue;
    }
    std::string_view data;
    const std::size_t n = parser_.parse_body(c.data + pos, c.size - pos, data, ec);
    if (ec) return ec;
    if (!data.empty()) {
      if (auto e = consumer_->on_body(data)) return e;
    }
    pos += n;
    if (parser_.done()) {
      for (const auto& f : parser_.trailers())
        res.trailers().add(f.name, f.value);
      return consumer_->on_end(res);
    }
    if (n == 0 && data.empty()) break;  // needs more bytes
  }
  return {};
}

void connection::copy_head(response& res) {
  const auto& h = parser_.head();
  res.set_status(h.status);
  res.set_version(h.version);
  res.set_reason(h.reason);
  auto& fields = res.headers();
  fields.clear();
  for (const auto& f : h.fields)
    fields.add(f.name, f.value);
  res.trailers().clear();
  res.body().clear();
}

// ---- pool support -------------------------------------------------------------------------------------

bool connection::idle_check() noexcept {
  if (!reusable()) return false;
  // A peer that closed (FIN), reset, or sent something while we were idle makes the socket readable.
  char probe;
  const auto r = ::recv(stream_.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void connection::close(bool graceful) noexcept {
  reusable_ = false;
  stop_timer();
  auto* tls = stream_.tls();
  if (!graceful || tls == nullptr || !stream_.socket().is_open()) {
    stream_.close();
    return;
  }
  // TLS: send close_notify so the server can tell a clean close from a truncation, but never wait for
  // the peer's reply longer than a second. Both handlers hold the connection until they ran.
  try {
    auto self = shared_from_this();
    ++timer_gen_;
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self](std::error_code ec) {
      if (!ec) self->stream_.close();
    });
    tls->async_shutdown([self](std::error_code) {
      self->timer_.cancel();
      self->stream_.close();
    });
  } catch (...) {
    stream_.close();
  }
}

}  // namespace sentinel::detail
