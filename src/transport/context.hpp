// sentinel: what one client's connections share, and nothing more (the narrow context of a connection).
//
// A connection needs an executor, the client's name cache and TLS context to open, a read buffer to
// read into, and counters to count in. It never sees the client, its pool or its
// options: that is what keeps the layers of docs/architecture.md one-way (client -> pool -> connection
// -> transport). Held by shared_ptr: a connection closing in the background (a TLS close_notify) may
// outlive its client.
#pragma once

#include "transport/counters.hpp"
#include "transport/resolve.hpp"
#include "transport/tls.hpp"

#include <sentinel/options.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <system_error>

namespace sentinel::detail {

class stream;
struct route;

/// The transport seam for tests and benchmarks: when set, a connection is opened by handing its stream
/// to this function (which attaches an in-memory pipe, say) instead of resolving and connecting.
using connector_fn = std::function<asio::awaitable<std::error_code>(const route&, stream&)>;

class connection_context {
 public:
  /// `read_buffer_bytes`: the shared read buffer's size (the protocol's largest unfinished head plus a
  /// generous read).
  connection_context(asio::any_io_executor executor, const tls_options& tls, std::size_t read_buffer_bytes);
  connection_context(const connection_context&) = delete;
  connection_context& operator=(const connection_context&) = delete;

  /// The client's TLS context, made on first use (a client that never speaks https never loads a CA store).
  tls_context& tls();
  /// The shared read buffer of readiness-read connections (see http1/connection.hpp).
  char* read_buffer() noexcept { return rbuf_.get(); }
  std::size_t read_buffer_size() const noexcept { return rbuf_cap_; }

  asio::any_io_executor ex;
  dns_cache dns;
  transport_counters counters;  // connections, TLS handshakes, bytes
  connector_fn connector;  // empty: DNS + TCP (+ proxy tunnel) (+ TLS)

 private:
  tls_options tls_opts_;
  std::unique_ptr<tls_context> tls_;
  std::unique_ptr<char[]> rbuf_;
  std::size_t rbuf_cap_ = 0;
};

}  // namespace sentinel::detail
