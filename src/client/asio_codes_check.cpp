// sentinel: compile-time proof that asio_codes.hpp names Asio's own values (the wire layer cannot include
// Asio to use them directly).
#include "wire/asio_codes.hpp"

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

namespace sentinel::detail::asio_codes {

static_assert(misc_eof == asio::error::eof);
static_assert(netdb_host_not_found == asio::error::host_not_found);
static_assert(netdb_try_again == asio::error::host_not_found_try_again);
static_assert(netdb_no_data == asio::error::no_data);
static_assert(ssl_stream_truncated == asio::ssl::error::stream_truncated);
static_assert(asio::error::timed_out == ETIMEDOUT && asio::error::connection_reset == ECONNRESET &&
              asio::error::broken_pipe == EPIPE && asio::error::connection_aborted == ECONNABORTED &&
              asio::error::connection_refused == ECONNREFUSED &&
              asio::error::host_unreachable == EHOSTUNREACH &&
              asio::error::network_unreachable == ENETUNREACH && asio::error::operation_aborted == ECANCELED);

}  // namespace sentinel::detail::asio_codes
