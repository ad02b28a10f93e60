// sentinel: a file or source body, block by block. See body_blocks.hpp.
#include "session/body_blocks.hpp"

#include "transport/cancel.hpp"

#include <sentinel/error.hpp>

#include <asio/this_coro.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>

namespace sentinel::detail {

asio::awaitable<std::error_code> next_block(const outgoing_body& body, std::uint64_t sent, char* data,
                                            std::size_t block, std::size_t& n) {
  n = 0;
  if (body.fd >= 0) {
    if (sent == *body.length) co_return std::error_code{};
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(block, *body.length - sent));
    const auto r = ::pread(body.fd, data, want, static_cast<off_t>(sent));
    if (r < 0) co_return std::error_code(errno, std::system_category());
    if (r == 0) co_return make_error_code(error::invalid_request);  // the file shrank while we sent it
    n = static_cast<std::size_t>(r);
    co_return std::error_code{};
  }
  // The source is user code: what it throws ends the exchange with a code, never by unwinding.
  std::exception_ptr thrown;
  try {
    n = co_await (*body.source)(std::span<char>(data, block));
  } catch (...) {
    thrown = std::current_exception();
  }
  if (thrown) {
    if (body.thrown != nullptr) *body.thrown = std::move(thrown);
    co_return make_error_code(error::callback_threw);
  }
  if (was_cancelled(co_await asio::this_coro::cancellation_state)) co_return asio::error::operation_aborted;
  if (n > block) co_return make_error_code(error::invalid_request);
  if (body.length && sent + n > *body.length) co_return make_error_code(error::invalid_request);
  if (n == 0 && body.length && sent != *body.length) co_return make_error_code(error::invalid_request);
  co_return std::error_code{};
}

}  // namespace sentinel::detail
