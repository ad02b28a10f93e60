// sentinel: the stream under a connection: TCP, TLS over TCP, or a device a connector attached (the
// transport seam; transport/device.hpp).
//
// A connection reads and writes through this one type and never asks which it is, except for one
// choice: TCP and device streams are read the reactor way (wait for readability, then a non-blocking
// read into the client's shared buffer: zero bytes of buffer per idle connection), while TLS is read
// with async_read_some into a buffer of the connection's own, because OpenSSL buffers internally and
// readiness of the socket says nothing about readiness of the TLS stream. TCP and TLS are switched on a
// tag rather than behind virtual functions, so that each wait is the socket's own operation: no extra
// coroutine frame or allocation per read on the hot path. Only a device costs a virtual call per try.
#pragma once

#include "transport/device.hpp"
#include "transport/tls.hpp"

#include <sentinel/url.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel::detail {

using tcp = asio::ip::tcp;

/// The end of a stream: EOF, or over TLS a close without close_notify (see is_truncation()).
inline bool is_end_of_stream(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}
/// An end of stream that TLS cannot vouch for (no close_notify): a truncation attack looks like this.
inline bool is_truncation(const std::error_code& ec) noexcept {
  return ec == asio::ssl::error::stream_truncated;
}

class stream {
  enum class kind { tcp, tls, device };  // the stream's own business: no caller asks which it is

 public:
  explicit stream(const asio::any_io_executor& ex) : tcp_(ex) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  bool is_open() const noexcept;
  /// True for TCP and devices: read with async_wait_readable() + try_read() into a shared buffer. False
  /// for TLS: read with async_read_some() into a buffer of the reader's own.
  bool reads_by_readiness() const noexcept { return kind_ != kind::tls; }

  // --- setting up (transport::connect) --------------------------------------------------------------------
  /// The TCP socket (under TLS when TLS is on). Only for TCP and TLS streams.
  tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : tcp_; }
  /// Makes this a stream over `dev` (a connector's device: tests and benchmarks; transport/context.hpp).
  void attach(std::unique_ptr<stream_device> dev) noexcept;
  /// Wraps the connected TCP socket in TLS for `u` (tls_context::prepare). The handshake is the caller's.
  std::error_code start_tls(tls_context& ctx, const url& u, const std::string& session_key,
                            std::span<const std::string_view> alpn);
  asio::ssl::stream<tcp::socket>* tls() noexcept { return tls_.get(); }

  // --- reading and writing (streams that keep their own bytes: TLS; !reads_by_readiness()) -------------
  /// Reads some bytes into `b` (the reader's own buffer: OpenSSL may hold decrypted bytes the socket no
  /// longer shows). One read and one write may be in flight at once.
  template <class Token>
  auto async_read_some(asio::mutable_buffer b, Token&& token) {
    return tls_->async_read_some(b, std::forward<Token>(token));
  }
  /// Writes all of `bufs`.
  template <class Token>
  auto async_write_all(const std::array<asio::const_buffer, 2>& bufs, Token&& token) {
    return asio::async_write(*tls_, bufs, std::forward<Token>(token));
  }

  // --- closing ------------------------------------------------------------------------------------------
  /// True when the stream has a closing handshake (TLS close_notify) worth sending before close().
  bool has_closing_handshake() const noexcept { return tls_ != nullptr; }
  /// Sends the closing handshake and waits for the peer's (the caller bounds the wait). Only when
  /// has_closing_handshake().
  template <class Token>
  auto async_shutdown(Token&& token) {
    return tls_->async_shutdown(std::forward<Token>(token));
  }

  // --- what it is connected to ----------------------------------------------------------------------------
  /// The peer's and our own address (unset when the stream has none, or is closed).
  tcp::endpoint remote_endpoint() const noexcept;
  tcp::endpoint local_endpoint() const noexcept;
  /// The application protocol the TLS handshake settled on ("h2", "http/1.1"), or empty: none asked
  /// for, none chosen, or no TLS (a device may script one).
  std::string_view alpn_protocol() const noexcept;

  // --- reading and writing (TCP and devices) -------------------------------------------------------------
  /// A non-blocking read: would_block when nothing is there.
  std::size_t try_read(asio::mutable_buffer b, std::error_code& ec);
  /// A non-blocking write of as much as fits: would_block when nothing did.
  std::size_t try_write(const std::array<asio::const_buffer, 2>& bufs, std::error_code& ec);

  template <class Token>
  auto async_wait_readable(Token&& token) {
    return async_wait(true, std::forward<Token>(token));
  }
  template <class Token>
  auto async_wait_writable(Token&& token) {
    return async_wait(false, std::forward<Token>(token));
  }

  /// Cancels pending operations (they complete with operation_aborted) without closing.
  void cancel() noexcept;
  /// Closes now (no TLS close_notify). Pending operations complete with operation_aborted.
  void close() noexcept;
  /// For an idle connection: false when the peer has closed it (readable EOF), reset it, or sent
  /// unsolicited bytes; true when it looks alive.
  bool idle_check() noexcept;
  /// TCP_NODELAY and non-blocking mode on a freshly connected socket.
  std::error_code prepare_socket() noexcept;

 private:
  template <class Token>
  auto async_wait(bool read, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, read](auto handler) {
          if (kind_ == kind::device) {
            const wait_for w = read ? wait_for::read : wait_for::write;
            if (dev_->ready(w)) {
              auto hex = asio::get_associated_executor(handler, tcp_.get_executor());
              asio::post(hex, [h = std::move(handler)]() mutable { std::move(h)(std::error_code{}); });
            } else {
              dev_->event(w).async_wait(std::move(handler), tcp_.get_executor());
            }
          } else {
            socket().async_wait(read ? tcp::socket::wait_read : tcp::socket::wait_write, std::move(handler));
          }
        },
        token);
  }

  kind kind_ = kind::tcp;
  tcp::socket tcp_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  std::unique_ptr<stream_device> dev_;
};

}  // namespace sentinel::detail
