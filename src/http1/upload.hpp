// sentinel: writing a request: the head (with an in-memory body in the same write), and file or source
// bodies in blocks, framed as chunks when their length is unknown.
#pragma once

#include "session/exchange.hpp"
#include "transport/counters.hpp"
#include "transport/deadlines.hpp"
#include "transport/outbound.hpp"
#include "transport/stream.hpp"

#include <asio/awaitable.hpp>

#include <string_view>
#include <system_error>

namespace sentinel::detail {

/// Sends a file or source body (or an in-memory one held back for 100 Continue), counting bytes_sent.
/// A source that produces more or fewer bytes than it announced, or a file that shrinks, fails with
/// invalid_request; a source that throws fails with callback_threw (its exception in *body.thrown).
/// `watch` as for write_all: sending stops without error once the response is complete.
asio::awaitable<std::error_code> send_body(stream& s, const deadline_set& d, transport_counters& counters,
                                           const outgoing_body& body, response_watch* watch = nullptr);

}  // namespace sentinel::detail
