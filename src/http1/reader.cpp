// sentinel: reading response bytes. See reader.hpp.
#include "http1/reader.hpp"

#include "transport/cancel.hpp"

#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cstring>

namespace sentinel::detail {
namespace {
constexpr std::size_t tls_buffer_initial = 16 * 1024;
}

void response_reader::note_read(deadline_set& d, const std::weak_ptr<void>& life) noexcept {
  // The idle timeout runs from the first response byte on. Before it, the server is still working on its
  // answer, which response_head bounds: otherwise an idle_read shorter than response_head (as in the
  // defaults) would cut every slow answer short, and with the wrong error.
  if (idle_timeout_.count() > 0 && bytes_ > 0) {
    d.set_extra(http1_deadlines::idle, clock::now() + idle_timeout_, error::idle_timeout);
    d.arm(life);
  }
}

asio::awaitable<std::error_code> response_reader::fill(stream& s, deadline_set& d, connection_context& ctx,
                                                       const std::weak_ptr<void>& life, chunk& c) {
  if (!s.reads_by_readiness()) co_return co_await fill_tls(s, d, ctx, life, c);
  std::error_code ec;
  char* const buf = ctx.read_buffer();
  const std::size_t cap = ctx.read_buffer_size();
  for (;;) {
    if (d.fired()) co_return d.fired_or(ec);
    if (http1_deadlines::continue_expired(d)) {
      // The Expect: 100-continue wait is over: hand back what we have (maybe nothing), so the body goes.
      const std::size_t k = spill_.size();
      if (k > 0) std::memcpy(buf, spill_.data(), k);
      spill_.clear();
      c = {buf, k};
      co_return std::error_code{};
    }
    if (!wait_first_) {
      // The shared buffer is ours only until we suspend: bring back our unfinished bytes, read, and
      // let the caller parse before the next co_await.
      const std::size_t k = spill_.size();
      if (k > 0) std::memcpy(buf, spill_.data(), k);
      const std::size_t n = s.try_read(asio::buffer(buf + k, cap - k), ec);
      if (!ec) {
        bytes_ += n;
        ctx.counters.bytes_received.add(n);
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
    note_read(d, life);
    co_await s.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted && !d.fired() && http1_deadlines::continue_expired(d))
      continue;  // see above
    if (ec) co_return d.fired_or(ec);
    if (was_cancelled(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
  }
}

asio::awaitable<std::error_code> response_reader::fill_tls(stream& s, deadline_set& d,
                                                           connection_context& ctx,
                                                           const std::weak_ptr<void>& life, chunk& c) {
  std::error_code ec;
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
  if (d.fired()) co_return d.fired_or(ec);
  if (http1_deadlines::continue_expired(d)) {  // see fill()
    c = {own_.get(), own_len_};
    co_return std::error_code{};
  }
  note_read(d, life);
  const std::size_t n = co_await s.async_read_some(asio::buffer(own_.get() + own_len_, own_cap_ - own_len_),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    // Kept even when a cancellation comes with them: OpenSSL has consumed these bytes, and a reader
    // that stops here (a read raced against a write) must find them on its next fill.
    own_len_ += n;
    bytes_ += n;
    ctx.counters.bytes_received.add(n);
    if (was_cancelled(co_await asio::this_coro::cancellation_state)) ec = asio::error::operation_aborted;
  }
  c = {own_.get(), own_len_};
  if (ec) {
    if (ec == asio::error::operation_aborted && !d.fired() && http1_deadlines::continue_expired(d))
      co_return std::error_code{};
    co_return d.fired_or(ec);
  }
  co_return std::error_code{};
}

std::error_code response_reader::fill_now(connection_context& ctx, stream& s, chunk& c) {
  char* const buf = ctx.read_buffer();
  const std::size_t k = spill_.size();
  if (k > 0) std::memcpy(buf, spill_.data(), k);
  std::error_code ec;
  const std::size_t n = s.try_read(asio::buffer(buf + k, ctx.read_buffer_size() - k), ec);
  c = {buf, k + n};
  if (!ec) {
    bytes_ += n;
    ctx.counters.bytes_received.add(n);
  }
  if (!ec || ec == asio::error::eof) spill_.clear();  // now in `c`
  return ec;
}

void response_reader::keep(const stream& s, const chunk& c, std::size_t consumed) {
  const std::size_t rest = c.size - consumed;
  if (!s.reads_by_readiness()) {
    if (consumed > 0 && rest > 0) std::memmove(own_.get(), own_.get() + consumed, rest);
    own_len_ = rest;
  } else {
    spill_.assign(c.data + consumed, rest);
  }
}

}  // namespace sentinel::detail
