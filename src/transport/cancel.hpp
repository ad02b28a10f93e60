// sentinel: checking for cancellation inside the library's coroutines.
//
// A cancellation that arrives while an operation's completion is already queued (the operation finished,
// the coroutine has not resumed yet) is recorded in the coroutine's cancellation_state but cancels
// nothing. So every internal coroutine checks the state after resuming from an asynchronous operation
// and before changing its cancellation filter (a reset would forget it). See docs/cancellation.md.
#pragma once

#include <asio/cancellation_state.hpp>
#include <asio/cancellation_type.hpp>

namespace sentinel::detail {

inline bool was_cancelled(const asio::cancellation_state& cs) noexcept {
  return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace sentinel::detail
