// sentinel: the shared context of a client's connections. See context.hpp.
#include "transport/context.hpp"

namespace sentinel::detail {

connection_context::connection_context(asio::any_io_executor executor, const client_options& opts)
    : ex(std::move(executor)),
      dns(ex),
      limits{opts.limits.max_head_bytes, opts.limits.max_header_count, opts.limits.max_body_bytes,
             opts.limits.max_chunk_line_bytes, opts.limits.max_header_line_bytes},
      tls_opts_(opts.tls) {
  // The shared read buffer holds a maximal unfinished head plus a generous read: 64 KiB reads keep large
  // bodies cheap (a 512-byte read buffer made Beast 10x slower on 1 MiB bodies).
  rbuf_cap_ = opts.limits.max_head_bytes + 64 * 1024;
  rbuf_.reset(new char[rbuf_cap_]);  // not value-initialized: untouched pages cost no memory
}

tls_context& connection_context::tls() {
  if (!tls_) tls_ = std::make_unique<tls_context>(tls_opts_);
  return *tls_;
}

}  // namespace sentinel::detail
