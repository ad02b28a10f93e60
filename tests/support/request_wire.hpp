// sentinel test support: reading HTTP/1.1 requests on the server side, shared by script_server and
// proxy_server (both parse what a client sends them). Lenient where a test server can be, strict where the
// client under test must be caught out (conflicting framing, bad chunk sizes).
#pragma once

#include "support/script_server.hpp"  // received_request

#include <cstddef>
#include <string_view>

namespace sentinel::test::wire {

char lower(char c);
bool iequals(std::string_view a, std::string_view b);
/// Whether a comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token);
/// `s` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);
/// Parses up to 18 decimal digits; false for anything else (empty, signs, spaces).
bool parse_decimal(std::string_view s, std::size_t& n);

/// A request head larger than this is a broken client: parse_head() says bad.
inline constexpr std::size_t max_request_head = 1 << 20;

enum class parse_status { need_more, done, bad };

struct body_framing {
  bool chunked = false;
  std::size_t content_length = 0;
};

/// Parses a request head at the start of `data` into `req`. `scanned` remembers how far the search for the
/// blank line got, so a head arriving in many reads is not rescanned from the start each time.
parse_status parse_head(std::string_view data, std::size_t& scanned, received_request& req, body_framing& fr,
                        std::size_t& head_len);
/// Finds the end of a body at the start of `data`. For chunked bodies, appends the payload to `decoded`
/// if it is not null (callers first size the body, then decode once).
parse_status parse_body(std::string_view data, const body_framing& fr, std::size_t& body_len,
                        std::string* decoded);
/// Whether a response (its head) says "Connection: close".
bool response_closes(std::string_view resp);
/// Whether the client asked to close after this request (Connection: close, or HTTP/1.0 without keep-alive).
bool request_closes(const received_request& r);

}  // namespace sentinel::test::wire
