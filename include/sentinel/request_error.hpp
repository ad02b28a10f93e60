// sentinel: the exception a failed request throws, naming the request, the phase and the endpoint.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/response.hpp>

#include <memory>
#include <system_error>

namespace sentinel {

/// What `co_await client.async_send(req)` (use_awaitable, the default token), use_future and the
/// awaitable shortcuts (get, post, send, ...) throw when a request fails. A std::system_error: code() is
/// the typed code (compare it with sentinel::error or sentinel::condition values as always); what() names
/// the method, the URL without credentials, the phase and the endpoint:
/// `GET http://127.0.0.1:1/: connect to 127.0.0.1:1: Connection refused`.
/// Callbacks and as_tuple get the same facts in the response's `info().failure` (see describe()).
class request_error : public std::system_error {
 public:
  request_error(std::error_code ec, failure_info where);
  /// The method, URL, phase and endpoint.
  const failure_info& failure() const noexcept { return *where_; }

 private:
  std::shared_ptr<const failure_info> where_;  // shared: copying an exception must not throw
};

}  // namespace sentinel
