// sentinel: the CONNECT tunnel through an HTTP proxy (RFC 9110 §9.3.6), as the transport's tunnel hook
// (transport/connect.hpp): the request goes through the serializer (which refuses CR/LF in the target
// and the Proxy-Authorization value), the answer through the response parser.
#pragma once

#include "transport/connect.hpp"

namespace sentinel::detail {

/// Sends `CONNECT host:port` for r.target through the proxy `s` is connected to and reads the answer: a
/// 2xx opens the tunnel; any other status, a hang-up or bytes after the answer fail with proxy_error.
asio::awaitable<std::error_code> open_tunnel(stream& s, const route& r, deadline_set& d,
                                             transport_counters& counters);

}  // namespace sentinel::detail
