// sentinel: the result of an operation as it travels between threads, without exceptions.
#pragma once

#include <sentinel/request.hpp>
#include <sentinel/response.hpp>

#include <system_error>

namespace sentinel::detail {

/// What an exchange produced. Crosses threads by move, never shared.
struct outcome {
  outcome() = default;
  outcome(std::error_code e, response r) : ec(e), res(std::move(r)) {}
  std::error_code ec;
  response res;
};

/// The caller's request and response when it lends them (http_client::async_send(const request&,
/// response&)): the exchange reads the one and fills the other in place. Null: the exchange owns both.
struct exchange_target {
  const request* req = nullptr;
  response* res = nullptr;
};

}  // namespace sentinel::detail
