// sentinel: the result of an operation as it travels between threads, without exceptions.
#pragma once

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

}  // namespace sentinel::detail
