// sentinel: a file or source request body, block by block: what every protocol's upload reads from, with
// the same rules (a file that shrinks, a source that breaks its announced length or throws).
#pragma once

#include "session/exchange.hpp"

#include <asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

namespace sentinel::detail {

/// The next block of `body` (a file or a source) into `data`, which has room for `block` bytes, after
/// `sent` bytes: `n` bytes, 0 at the end. A file that shrank, or a source that produced more than `block`,
/// more than its announced length or ended short of it, fails with invalid_request; a source that threw
/// fails with callback_threw (its exception in *body.thrown); a cancellation with operation_aborted.
asio::awaitable<std::error_code> next_block(const outgoing_body& body, std::uint64_t sent, char* data,
                                            std::size_t block, std::size_t& n);

}  // namespace sentinel::detail
