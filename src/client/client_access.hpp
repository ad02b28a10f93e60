// sentinel: the way into an http_client's internals, for the library's workers and for tests (which
// include this test-only header from src/; public headers expose no internals).
#pragma once

#include "client/client_core.hpp"

#include <sentinel/http_client.hpp>
#include <sentinel/request.hpp>

#include <memory>

namespace sentinel::detail {

struct client_access {
  static client_core& core(const http_client& c) noexcept { return *c.core_; }
  static const std::shared_ptr<client_core>& shared_core(const http_client& c) noexcept { return c.core_; }
  /// The exchange as a task, for a worker's own client (no extra coroutine frame).
  static task<outcome> exchange(http_client& c, request req) {
    return http_client::run_exchange(c.core_, std::move(req));
  }
};

}  // namespace sentinel::detail
