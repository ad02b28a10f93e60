// sentinel: the shared context of a client's connections. See context.hpp.
#include "transport/context.hpp"

namespace sentinel::detail {

connection_context::connection_context(asio::any_io_executor executor, const tls_options& tls,
                                       std::size_t read_buffer_bytes)
    : ex(std::move(executor)), dns(ex), tls_opts_(tls), rbuf_cap_(read_buffer_bytes) {
  rbuf_.reset(new char[rbuf_cap_]);  // not value-initialized: untouched pages cost no memory
}

tls_context& connection_context::tls() {
  if (!tls_) tls_ = std::make_unique<tls_context>(tls_opts_);
  return *tls_;
}

}  // namespace sentinel::detail
