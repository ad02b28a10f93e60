// sentinel: a connection's inbound bytes. See inbound.hpp.
#include "transport/inbound.hpp"

#include <cstring>

namespace sentinel::detail {
namespace {
constexpr std::size_t own_buffer_initial = 16 * 1024;
}

std::error_code inbound::take(stream& s, connection_context& ctx, chunk& c) {
  std::error_code ec;
  if (!s.reads_by_readiness()) {
    c = {own_.get(), own_len_};
    if (own_len_ == handed_) return make_error_code(asio::error::would_block);
    handed_ = own_len_;
    return ec;
  }
  // The shared buffer is ours only until we suspend: bring back our unfinished bytes, then read.
  char* const buf = ctx.read_buffer();
  const std::size_t k = spill_.size();
  if (k > 0) std::memcpy(buf, spill_.data(), k);
  const std::size_t n = s.try_read(asio::buffer(buf + k, ctx.read_buffer_size() - k), ec);
  c = {buf, k};
  if (ec == asio::error::try_again) ec = asio::error::would_block;
  if (ec && ec != asio::error::eof) return ec;  // what is kept stays kept
  if (!ec) {
    count(ctx, n);
    c.size += n;
  }
  spill_.clear();  // now in `c`
  return ec;
}

inbound::chunk inbound::kept(const stream& s, connection_context& ctx) noexcept {
  if (!s.reads_by_readiness()) return {own_.get(), handed_};
  char* const buf = ctx.read_buffer();
  const std::size_t k = spill_.size();
  if (k > 0) std::memcpy(buf, spill_.data(), k);
  return {buf, k};
}

void inbound::keep(const stream& s, const chunk& c, std::size_t consumed) {
  const std::size_t rest = c.size - consumed;
  if (s.reads_by_readiness()) {
    spill_.assign(c.data + consumed, rest);
    return;
  }
  // Bytes read after `c` was handed out (a read that came with a cancellation) stay behind it, new.
  const std::size_t later = own_len_ - c.size;
  if (consumed > 0 && rest + later > 0) std::memmove(own_.get(), own_.get() + consumed, rest + later);
  own_len_ = rest + later;
  handed_ = rest;
}

asio::mutable_buffer inbound::own_space() {
  if (!own_) {
    own_cap_ = own_buffer_initial;
    own_ = std::make_unique<char[]>(own_cap_);
  }
  if (own_len_ == own_cap_) {
    // Only an unfinished head or trailer block can fill the buffer (the protocol's parser bounds both).
    const std::size_t cap = own_cap_ * 2;
    auto bigger = std::make_unique<char[]>(cap);
    std::memcpy(bigger.get(), own_.get(), own_len_);
    own_ = std::move(bigger);
    own_cap_ = cap;
  }
  return asio::buffer(own_.get() + own_len_, own_cap_ - own_len_);
}

}  // namespace sentinel::detail
