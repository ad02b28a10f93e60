// sentinel: completion-handler adapters shared by http_client and client_pool.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/detail/outcome.hpp>
#include <sentinel/error.hpp>
#include <sentinel/request_error.hpp>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/associator.hpp>
#include <asio/async_result.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <type_traits>
#include <utility>

// Declared, not included: <asio/use_future.hpp> brings <future> and threads to every includer, and only
// the name is needed here (users of use_future include it themselves).
namespace asio {
template <typename Allocator>
class use_future_t;
}  // namespace asio

namespace sentinel::detail {

/// A user's handler as the adapters below hold it: its associated executor (defaulting to
/// `DefaultExecutor`, never the one the coroutine ran on unless they are the same), allocator and
/// cancellation slot are the adapter's.
template <class Handler, class DefaultExecutor>
class wrapped_handler {
 public:
  using executor_type = asio::associated_executor_t<Handler, DefaultExecutor>;
  using allocator_type = asio::associated_allocator_t<Handler>;
  using cancellation_slot_type = asio::associated_cancellation_slot_t<Handler>;

  wrapped_handler(Handler h, DefaultExecutor ex) : handler_(std::move(h)), ex_(std::move(ex)) {}

  executor_type get_executor() const noexcept { return asio::get_associated_executor(handler_, ex_); }
  allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler_); }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return asio::get_associated_cancellation_slot(handler_);
  }

 protected:
  Handler handler_;
  DefaultExecutor ex_;
};

/// Adapts a user's handler `void(std::error_code, response)` to co_spawn's `void(std::exception_ptr,
/// outcome)`.
template <class Handler, class DefaultExecutor>
class outcome_handler : public wrapped_handler<Handler, DefaultExecutor> {
 public:
  using wrapped_handler<Handler, DefaultExecutor>::wrapped_handler;

  void operator()(std::exception_ptr e, outcome o) {
    // The exchange never throws by design; anything that escapes (bad_alloc) is reported, not lost.
    if (e) o.ec = make_error_code(error::internal);
    std::move(this->handler_)(o.ec, std::move(o.res));
  }
};

/// As outcome_handler, for the operations that fill the caller's response (`res`): adapts co_spawn's
/// `void(std::exception_ptr, std::error_code)` to `void(std::error_code)`. An exception that escaped the
/// exchange (bad_alloc) leaves `res` empty.
template <class Handler, class DefaultExecutor>
class status_handler : public wrapped_handler<Handler, DefaultExecutor> {
 public:
  status_handler(Handler h, DefaultExecutor ex, response* res)
      : wrapped_handler<Handler, DefaultExecutor>(std::move(h), std::move(ex)), res_(res) {}

  void operator()(std::exception_ptr e, std::error_code ec) {
    if (e) {
      ec = make_error_code(error::internal);
      res_->clear();
    }
    std::move(this->handler_)(ec);
  }

 private:
  response* res_;
};

/// Tokens that turn an error into an exception (use_awaitable, use_future). For these the operations
/// complete with `void(std::exception_ptr, response)` holding a request_error, so that what they throw
/// names the request, the phase and the endpoint, not only the code.
template <class Token>
struct throws_request_error : std::false_type {};
template <class Executor>
struct throws_request_error<asio::use_awaitable_t<Executor>> : std::true_type {};
template <class Allocator>
struct throws_request_error<asio::use_future_t<Allocator>> : std::true_type {};

/// Adapts a handler of `void(std::exception_ptr, response)` (what use_awaitable and use_future make) to
/// the operations' `void(std::error_code, response)`. Its executor, allocator and cancellation slot are
/// the inner handler's (the asio::associator specialisation below forwards them, defaults included).
template <class Handler>
class throwing_handler {
 public:
  explicit throwing_handler(Handler h) : handler_(std::move(h)) {}

  const Handler& inner() const noexcept { return handler_; }

  void operator()(std::error_code ec, response res) {
    if (!ec) return std::move(handler_)(std::exception_ptr(), std::move(res));
    // Built here, on the caller's side: the success path pays nothing for it.
    std::exception_ptr e = std::make_exception_ptr(request_error(ec, std::move(res.info().failure)));
    std::move(handler_)(std::move(e), response());
  }

 private:
  Handler handler_;
};

/// As throwing_handler, for the operations that fill the caller's response: adapts `void(std::exception_ptr)`
/// to `void(std::error_code)`, the request_error naming what `res.info().failure` says (a copy: the
/// caller's response keeps it).
template <class Handler>
class throwing_status_handler {
 public:
  throwing_status_handler(Handler h, const response* res) : handler_(std::move(h)), res_(res) {}
  const Handler& inner() const noexcept { return handler_; }

  void operator()(std::error_code ec) {
    if (!ec) return std::move(handler_)(std::exception_ptr());
    std::move(handler_)(std::make_exception_ptr(request_error(ec, res_->info().failure)));
  }

 private:
  Handler handler_;
  const response* res_;
};

/// Runs `Init` with the handler wrapped in a throwing_handler.
template <class Init>
struct throwing_initiation {
  Init init;
  template <class Handler, class... Args>
  void operator()(Handler&& handler, Args&&... args) {
    std::move(init)(throwing_handler<std::decay_t<Handler>>(std::forward<Handler>(handler)),
                    std::forward<Args>(args)...);
  }
};

/// async_initiate for an operation completing with a response: `void(std::error_code, response)`, or
/// for the tokens that throw, `void(std::exception_ptr, response)` with a request_error.
template <class Token, class Init, class... Args>
auto initiate_response(Init init, Token& token, Args&&... args) {
  if constexpr (throws_request_error<std::decay_t<Token>>::value) {
    return asio::async_initiate<Token, void(std::exception_ptr, response)>(
        throwing_initiation<Init>{std::move(init)}, token, std::forward<Args>(args)...);
  } else {
    return asio::async_initiate<Token, void(std::error_code, response)>(std::move(init), token,
                                                                        std::forward<Args>(args)...);
  }
}

/// Runs `Init` with the handler wrapped in a throwing_status_handler.
template <class Init>
struct throwing_status_initiation {
  Init init;

  template <class Handler>
  void operator()(Handler&& handler, const request* req, response* res) {
    std::move(init)(throwing_status_handler<std::decay_t<Handler>>(std::forward<Handler>(handler), res), req,
                    res);
  }
};

/// async_initiate for an operation that fills the caller's response `res`: `void(std::error_code)`, or
/// for the tokens that throw, `void(std::exception_ptr)` with a request_error.
template <class Token, class Init>
auto initiate_status(Init init, Token& token, const request* req, response* res) {
  if constexpr (throws_request_error<std::decay_t<Token>>::value) {
    return asio::async_initiate<Token, void(std::exception_ptr)>(
        throwing_status_initiation<Init>{std::move(init)}, token, req, res);
  } else {
    return asio::async_initiate<Token, void(std::error_code)>(std::move(init), token, req, res);
  }
}

}  // namespace sentinel::detail

template <template <typename, typename> class Associator, class Handler, class DefaultCandidate>
struct asio::associator<Associator, sentinel::detail::throwing_handler<Handler>, DefaultCandidate> {
  using type = typename Associator<Handler, DefaultCandidate>::type;
  static type get(const sentinel::detail::throwing_handler<Handler>& h,
                  const DefaultCandidate& c = DefaultCandidate()) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.inner(), c);
  }
};

template <template <typename, typename> class Associator, class Handler, class DefaultCandidate>
struct asio::associator<Associator, sentinel::detail::throwing_status_handler<Handler>, DefaultCandidate> {
  using type = typename Associator<Handler, DefaultCandidate>::type;
  static type get(const sentinel::detail::throwing_status_handler<Handler>& h,
                  const DefaultCandidate& c = DefaultCandidate()) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.inner(), c);
  }
};
