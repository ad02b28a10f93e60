// sentinel test support: the small helpers every client test wants.
#pragma once

#include <sentinel/http_client.hpp>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <system_error>
#include <tuple>

namespace sentinel::test {

/// co_await op(..., use_tuple) gives (error_code, result) instead of throwing.
inline constexpr asio::experimental::as_tuple_t<asio::use_awaitable_t<>> use_tuple{};

/// One request on `c`, as (error_code, response).
inline asio::awaitable<std::tuple<std::error_code, response>> fetch(http_client& c, request req) {
  co_return co_await c.async_send(std::move(req), use_tuple);
}

}  // namespace sentinel::test
