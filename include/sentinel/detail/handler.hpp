// sentinel: completion-handler adapters shared by http_client and client_pool.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/detail/outcome.hpp>
#include <sentinel/error.hpp>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>

#include <exception>
#include <type_traits>
#include <utility>

namespace sentinel::detail {

/// Adapts a user's handler `void(std::error_code, response)` to co_spawn's `void(std::exception_ptr,
/// outcome)`, keeping the handler's associated executor (defaulting to `DefaultExecutor`, never the one
/// the coroutine ran on unless they are the same), allocator and cancellation slot.
template <class Handler, class DefaultExecutor>
class outcome_handler {
 public:
  using executor_type = asio::associated_executor_t<Handler, DefaultExecutor>;
  using allocator_type = asio::associated_allocator_t<Handler>;
  using cancellation_slot_type = asio::associated_cancellation_slot_t<Handler>;

  outcome_handler(Handler h, DefaultExecutor ex) : handler_(std::move(h)), ex_(std::move(ex)) {}

  executor_type get_executor() const noexcept { return asio::get_associated_executor(handler_, ex_); }
  allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler_); }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return asio::get_associated_cancellation_slot(handler_);
  }

  void operator()(std::exception_ptr e, outcome o) {
    // The exchange never throws by design; anything that escapes (bad_alloc) is reported, not lost.
    if (e) o.ec = make_error_code(error::internal);
    std::move(handler_)(o.ec, std::move(o.res));
  }

 private:
  Handler handler_;
  DefaultExecutor ex_;
};

}  // namespace sentinel::detail
