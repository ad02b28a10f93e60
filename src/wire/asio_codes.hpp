// sentinel: the few Asio error codes the wire layer's condition mapping knows, without including Asio.
//
// error.cpp is wire code (no Asio include path, enforced by the build), yet `ec == condition::timeout`
// must hold for Asio's codes too. A code is recognised by its category's name (which also works when two
// copies of Asio are linked) and its value; src/client/asio_codes_check.cpp proves at compile time that
// these values are Asio's own.
#pragma once

#include <netdb.h>
#include <cerrno>

namespace sentinel::detail::asio_codes {

inline constexpr const char* system_category = "asio.system";  // values are errno values
inline constexpr const char* misc_category = "asio.misc";
inline constexpr const char* netdb_category = "asio.netdb";
inline constexpr const char* ssl_category = "asio.ssl";
inline constexpr const char* ssl_stream_category = "asio.ssl.stream";

inline constexpr int misc_eof = 2;                           // asio::error::eof
inline constexpr int netdb_host_not_found = HOST_NOT_FOUND;  // asio::error::host_not_found
inline constexpr int netdb_try_again = TRY_AGAIN;            // asio::error::host_not_found_try_again
inline constexpr int netdb_no_data = NO_DATA;                // asio::error::no_data
inline constexpr int ssl_stream_truncated = 1;               // asio::ssl::error::stream_truncated

}  // namespace sentinel::detail::asio_codes
