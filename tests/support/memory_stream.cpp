// sentinel test support: the in-memory pipe. See memory_stream.hpp.
#include "support/memory_stream.hpp"

#include "transport/stream.hpp"

#include <algorithm>
#include <cstring>

namespace sentinel::test {

std::pair<memory_stream, memory_stream> make_memory_pipe(const asio::any_io_executor& ex) {
  auto st = std::make_shared<memory_pipe_detail::state>(ex);
  return {memory_stream(st, 0), memory_stream(st, 1)};
}

std::size_t memory_stream::read_some(asio::mutable_buffer b, std::error_code& ec) {
  ec.clear();
  auto& d = in();
  if (!st_->open[side_]) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  if (d.passed >= d.fail_after) {
    d.error = d.fail_with;
    d.bytes.clear();
    d.head = 0;
    ec = d.error;
    return 0;
  }
  // Bytes that arrived before a reset are still read first, as from a socket's receive queue.
  if (d.available() > 0) {
    std::size_t n = std::min({b.size(), d.available(), d.fail_after - d.passed});
    if (d.read_limit != 0) n = std::min(n, d.read_limit);
    if (n == 0) return 0;  // an empty buffer reads nothing, as recv() does
    std::memcpy(b.data(), d.bytes.data() + d.head, n);
    d.head += n;
    d.passed += n;
    if (d.head == d.bytes.size()) {
      d.bytes.clear();
      d.head = 0;
    }
    d.writable.notify();
    return n;
  }
  if (d.error) {
    ec = d.error;
    return 0;
  }
  ec = d.eof ? std::error_code(asio::error::eof) : std::error_code(asio::error::would_block);
  return 0;
}

std::size_t memory_stream::write_one(asio::const_buffer b, std::error_code& ec) {
  ec.clear();
  auto& d = out();
  const int peer = 1 - side_;
  if (!st_->open[side_]) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  if (d.error == asio::error::connection_reset) {
    ec = asio::error::connection_reset;
    return 0;
  }
  if (!st_->open[peer] || d.eof) {
    ec = asio::error::broken_pipe;
    return 0;
  }
  if (st_->written[side_] >= st_->write_fail_after[side_]) {
    ec = st_->write_fail_with[side_];
    return 0;
  }
  const std::size_t room = d.capacity == 0 ? b.size() : d.capacity - std::min(d.capacity, d.available());
  const std::size_t n = std::min({b.size(), room, st_->write_fail_after[side_] - st_->written[side_]});
  if (n == 0) {
    ec = asio::error::would_block;
    return 0;
  }
  d.bytes.append(static_cast<const char*>(b.data()), n);
  st_->written[side_] += n;
  d.readable.notify();
  return n;
}

void memory_stream::shutdown_send() {
  out().eof = true;
  out().readable.notify();
}

void memory_stream::close() noexcept {
  if (!st_ || !st_->open[side_]) return;
  st_->open[side_] = false;
  out().eof = true;
  out().readable.notify();  // the peer reads what is left, then EOF
  in().writable.notify();   // the peer's blocked writes fail with broken_pipe
  cancel();
}

void memory_stream::reset() noexcept {
  if (!st_) return;
  // What this end had not read yet is gone; what it sent is in the peer's receive queue already, and the
  // peer reads it before the reset (as Linux delivers a socket's queued bytes before ECONNRESET).
  in().bytes.clear();
  in().head = 0;
  for (auto* d : {&in(), &out()}) {
    d->error = asio::error::connection_reset;
    d->readable.notify();
    d->writable.notify();
  }
  if (st_->open[side_]) {
    st_->open[side_] = false;
    cancel();
  }
}

void memory_stream::cancel() noexcept {
  if (!st_) return;
  in().readable.cancel();
  out().writable.cancel();
}

namespace {

// One pipe end as a connection's device (transport/device.hpp).
class memory_device final : public ::sentinel::detail::stream_device {
 public:
  memory_device(memory_stream end, std::string alpn) : s_(std::move(end)), alpn_(std::move(alpn)) {}
  bool is_open() const noexcept override { return s_.is_open(); }
  std::size_t read_some(asio::mutable_buffer b, std::error_code& ec) override { return s_.read_some(b, ec); }
  std::size_t write_some(const std::array<asio::const_buffer, 2>& bufs, std::error_code& ec) override {
    return s_.write_some(bufs, ec);
  }
  bool ready(wait_for w) const noexcept override {
    return w == wait_for::read ? s_.readable_now() : s_.writable_now();
  }
  readiness_event& event(wait_for w) noexcept override { return s_.event(w); }
  void cancel() noexcept override { s_.cancel(); }
  void close() noexcept override { s_.close(); }
  std::string_view alpn_protocol() const noexcept override { return alpn_; }
  bool idle_check() noexcept override {
    // Anything readable on an idle connection (bytes, EOF, a reset) means it is not reusable. The probe
    // consumes a byte, but a connection that fails the check is closed anyway.
    char probe;
    std::error_code ec;
    s_.read_some(asio::buffer(&probe, 1), ec);
    return ec == asio::error::would_block;
  }

 private:
  memory_stream s_;
  std::string alpn_;
};

}  // namespace

void attach_memory(::sentinel::detail::stream& s, memory_stream end, std::string alpn) {
  s.attach(std::make_unique<memory_device>(std::move(end), std::move(alpn)));
}

void memory_stream::fail_reads_after(std::size_t n, std::error_code ec) noexcept {
  auto& d = in();
  d.fail_after = d.passed + n;
  d.fail_with = ec;
}

void memory_stream::fail_writes_after(std::size_t n, std::error_code ec) noexcept {
  st_->write_fail_after[side_] = st_->written[side_] + n;
  st_->write_fail_with[side_] = ec;
}

}  // namespace sentinel::test
