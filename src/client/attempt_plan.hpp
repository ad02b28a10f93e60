// sentinel: everything one attempt of a request needs, worked out once per send (not per attempt):
// exchange parameters and deadlines, the extra head fields, the outgoing body, the route (direct,
// forward proxy or CONNECT tunnel) and the pool key. Plain code, so the exchange coroutine stays a
// readable loop and gains no frame for it.
#pragma once

#include "client/proxy.hpp"
#include "session/exchange.hpp"
#include "session/session.hpp"
#include "transport/connect.hpp"

#include <sentinel/options.hpp>
#include <sentinel/request.hpp>

#include <array>
#include <string>
#include <string_view>
#include <system_error>

namespace sentinel::detail {

struct attempt_plan {
  exchange_params params;
  request_extras extras;
  outgoing_body body;
  clock::duration connect_timeout{};
  clock::time_point acquire_deadline = clock::time_point::max();
  error acquire_error = error::pool_timeout;  // which deadline an acquire timeout is
  bool may_retry = false;                     // the stale-connection retry may resend it (docs/retry.md)
  unsigned refusals_left = 0;                 // times it may be sent again after a refusal (docs/retry.md)
  bool decompress = false;
  route rt;
  protocol_offer offer;     // the protocols its connection offers (the pool key says which)
  std::string_view origin;  // the pool key: into key_buf (direct) or proxied_key
  std::string proxied_key;
  std::array<char, 320> key_buf;
};

/// Fills `plan` for `req` (which must outlive it: the plan points into it). Fails only when the proxy
/// that would carry the request is misconfigured.
std::error_code make_plan(const client_options& opts, const proxy_config& proxies, const request& req,
                          clock::time_point total_deadline, attempt_plan& plan);

}  // namespace sentinel::detail
