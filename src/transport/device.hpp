// sentinel: a byte stream in user space that a connection can run over (the connector seam's device).
//
// TCP and TLS are the transport's own streams. Anything else a connection should run over (the test
// suite's in-memory pipe with its fault injection, a benchmark's responder with no kernel in the loop)
// is a stream_device that a connector (transport/context.hpp) attaches to the connection's stream. The
// device speaks the reactor's terms, as a non-blocking socket does: try a read or a write, and when it
// would block, wait on the device's readiness_event for that direction. The waits are Asio timer waits,
// so a device costs the reader no type-erased handler and no allocation beyond the timer's own
// (recycled) operation; the tries are one virtual call each.
//
// Not thread-safe: a device and its events belong to one executor's thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

namespace sentinel::detail {

/// An event a stream's waiters park on until the device says "ready" (notify: they complete with
/// success) or the waits are cancelled (cancel: operation_aborted). A handle: copies name the same
/// event, and a pending wait keeps it alive.
class readiness_event {
 public:
  explicit readiness_event(const asio::any_io_executor& ex) : st_(std::make_shared<state>(ex)) {}

  /// Wakes the current waiters with success (nothing when none wait: readiness is the device's state,
  /// asked for again before the next wait).
  void notify() {
    if (st_->waiters == 0) return;
    st_->notified = true;
    st_->timer.cancel();
  }
  /// Wakes the current waiters with operation_aborted.
  void cancel() {
    st_->notified = false;
    st_->timer.cancel();
  }
  /// Waits for the next notify() or cancel(). The handler runs on its associated executor (else `ex`)
  /// and may be cancelled through its associated cancellation slot (operation_aborted).
  template <class Handler>
  void async_wait(Handler handler, const asio::any_io_executor& ex) {
    auto hex = asio::get_associated_executor(handler, ex);
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto alloc = asio::get_associated_allocator(handler);  // the wait's memory comes from the handler's
    ++st_->waiters;
    st_->timer.async_wait(asio::bind_cancellation_slot(
        slot, asio::bind_executor(hex, asio::bind_allocator(alloc, [st = st_, h = std::move(handler)](
                                                                       std::error_code ec) mutable {
                                    --st->waiters;
                                    if (ec == asio::error::operation_aborted && st->notified) ec.clear();
                                    if (st->waiters == 0) st->notified = false;
                                    std::move(h)(ec);
                                  }))));
  }

 private:
  struct state {
    explicit state(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;  // never expires: cancel() is the signal
    int waiters = 0;
    bool notified = false;
  };
  std::shared_ptr<state> st_;
};

/// Which way a stream waits: until it can read, or until it can write.
enum class wait_for { read, write };

/// A user-space byte stream, as the transport's stream sees it (see the header comment).
class stream_device {
 public:
  virtual ~stream_device() = default;

  virtual bool is_open() const noexcept = 0;
  /// A non-blocking read: would_block when nothing is there, eof after the peer's end.
  virtual std::size_t read_some(asio::mutable_buffer b, std::error_code& ec) = 0;
  /// A non-blocking write of as much as fits: would_block when nothing did.
  virtual std::size_t write_some(const std::array<asio::const_buffer, 2>& bufs, std::error_code& ec) = 0;
  /// True when a wait for `w` would complete at once (bytes, EOF or an error to read; room to write).
  virtual bool ready(wait_for w) const noexcept = 0;
  /// The event a wait for `w` parks on; the device notifies it when ready(w) turns true.
  virtual readiness_event& event(wait_for w) noexcept = 0;
  /// Pending waits complete with operation_aborted; the device stays open.
  virtual void cancel() noexcept = 0;
  /// Closes this end: pending waits complete with operation_aborted, the peer reads EOF.
  virtual void close() noexcept = 0;
  /// For an idle connection: false when the peer closed or reset it or sent unsolicited bytes.
  virtual bool idle_check() noexcept = 0;
  /// Addresses, when the device has any (an unset endpoint otherwise).
  virtual asio::ip::tcp::endpoint remote_endpoint() const noexcept { return {}; }
  virtual asio::ip::tcp::endpoint local_endpoint() const noexcept { return {}; }
  /// The application protocol the device says was negotiated (a test scripts ALPN this way), or empty.
  virtual std::string_view alpn_protocol() const noexcept { return {}; }
};

}  // namespace sentinel::detail
