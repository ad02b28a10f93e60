// sentinel: the stream under a connection. See stream.hpp.
#include "transport/stream.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace sentinel::detail {

bool stream::is_open() const noexcept {
  if (kind_ == kind::device) return dev_->is_open();
  return const_cast<stream*>(this)->socket().is_open();
}

void stream::attach(std::unique_ptr<stream_device> dev) noexcept {
  kind_ = kind::device;
  dev_ = std::move(dev);
}

tcp::endpoint stream::remote_endpoint() const noexcept {
  if (kind_ == kind::device) return dev_->remote_endpoint();
  std::error_code ec;
  auto ep = const_cast<stream*>(this)->socket().remote_endpoint(ec);
  return ec ? tcp::endpoint{} : ep;
}

tcp::endpoint stream::local_endpoint() const noexcept {
  if (kind_ == kind::device) return dev_->local_endpoint();
  std::error_code ec;
  auto ep = const_cast<stream*>(this)->socket().local_endpoint(ec);
  return ec ? tcp::endpoint{} : ep;
}

std::string_view stream::alpn_protocol() const noexcept {
  if (kind_ == kind::device) return dev_->alpn_protocol();
  if (!tls_) return {};
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(tls_->native_handle(), &p, &n);
  return p != nullptr ? std::string_view(reinterpret_cast<const char*>(p), n) : std::string_view{};
}

std::error_code stream::start_tls(tls_context& ctx, const url& u, const std::string& session_key,
                                  std::span<const std::string_view> alpn) {
  if (auto ec = ctx.init_error()) return ec;
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(tcp_), ctx.native());
  kind_ = kind::tls;
  return ctx.prepare(tls_->native_handle(), u, session_key, alpn);
}

std::size_t stream::try_read(asio::mutable_buffer b, std::error_code& ec) {
  if (kind_ == kind::device) return dev_->read_some(b, ec);
  return tcp_.read_some(b, ec);
}

std::size_t stream::try_write(const std::array<asio::const_buffer, 2>& bufs, std::error_code& ec) {
  if (kind_ == kind::device) return dev_->write_some(bufs, ec);
  return tcp_.write_some(bufs, ec);
}

void stream::cancel() noexcept {
  if (kind_ == kind::device) return dev_->cancel();
  std::error_code ignored;
  socket().cancel(ignored);
}

void stream::close() noexcept {
  if (kind_ == kind::device) return dev_->close();
  if (tls_) {
    // Without this, SSL_free() takes a connection that did not send close_notify (the peer closed it,
    // it was reset, or we abandon it) for a "bad" one and marks its session not resumable: the very
    // session object our cache holds. TLS 1.1 and later dropped that rule (RFC 4346 §7.2.1: an
    // unclean close need not stop resumption), and idle keep-alive connections closed by the server
    // are exactly the ones whose sessions we want to resume. Sets a flag only; nothing is sent.
    SSL* ssl = tls_->native_handle();
    SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
  }
  std::error_code ignored;
  socket().close(ignored);
}

bool stream::idle_check() noexcept {
  if (kind_ == kind::device) return dev_->idle_check();
  // A peer that closed (FIN), reset, or sent something while we were idle makes the socket readable.
  char probe;
  const auto r = ::recv(socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::error_code stream::prepare_socket() noexcept {
  std::error_code ec;
  if (kind_ == kind::device) return ec;
  socket().set_option(tcp::no_delay(true), ec);
  if (!ec) socket().non_blocking(true, ec);  // reads and writes are tried synchronously first
  return ec;
}

}  // namespace sentinel::detail
