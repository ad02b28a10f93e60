// sentinel: the CONNECT tunnel. See tunnel.hpp.
#include "http1/tunnel.hpp"

#include "http1/upload.hpp"
#include "wire/http1/parser.hpp"
#include "wire/http1/serializer.hpp"

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <string>

namespace sentinel::detail {

asio::awaitable<std::error_code> open_tunnel(stream& s, const route& r, deadline_set& d,
                                             transport_counters& counters) {
  std::string req;
  const headers none;
  http1::head_extras extras;
  extras.authority_form = true;  // "CONNECT host:port", Host the same
  extras.proxy_authorization = r.proxy_authorization;
  if (auto ec = http1::serialize_head({"CONNECT", *r.target, none, 0}, extras, req)) co_return ec;
  if (auto ec = co_await write_all(s, d, req, {})) co_return ec;

  // Only the status of the answer matters; its head must fit a small buffer (the proxy's, not the
  // origin's: nothing after it is read here, since the server speaks only after our ClientHello).
  http1::response_parser parser;
  parser.reset(http1::request_kind::connect);
  std::string buf;
  std::array<char, 4096> chunk;
  for (;;) {
    std::error_code ec;
    co_await s.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return d.fired_or(ec);
    const std::size_t n = s.try_read(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
    if (is_end_of_stream(ec)) co_return make_error_code(error::proxy_error);  // the proxy hung up on us
    if (ec) co_return ec;
    buf.append(chunk.data(), n);
    counters.bytes_received.add(n);
    const std::size_t head = parser.parse_head(buf.data(), buf.size(), ec);
    if (ec) co_return ec;
    if (head == 0) continue;
    if (parser.head().interim()) {  // a 1xx before the answer: skip it
      buf.erase(0, head);
      continue;
    }
    // 2xx opens the tunnel; the proxy must then stay silent until the server speaks (after our TLS
    // ClientHello): stray bytes would be read as TLS.
    const int status = parser.head().status;
    if (status < 200 || status > 299 || head != buf.size()) co_return make_error_code(error::proxy_error);
    co_return std::error_code{};
  }
}

}  // namespace sentinel::detail
