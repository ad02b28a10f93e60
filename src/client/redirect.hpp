// sentinel: following redirects (RFC 9110 §15.4): which statuses, and the request for the target.
#pragma once

#include <sentinel/request.hpp>
#include <sentinel/response.hpp>

#include <system_error>

namespace sentinel::detail {

/// 301, 302, 303, 307, 308.
bool is_redirect(int status) noexcept;

/// Turns `req` into the request for the redirect target of `res`, or fails with bad_redirect: 303 (but
/// for HEAD) and 301/302 on POST become a GET without body or the fields that described it; 307/308 keep
/// method and body; Authorization, Cookie, Proxy-Authorization and Host are dropped when the origin
/// changes.
std::error_code follow_redirect(request& req, const response& res);

}  // namespace sentinel::detail
