// sentinel: an HTTP request as a value.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/headers.hpp>
#include <sentinel/options.hpp>
#include <sentinel/url.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace sentinel {

/// An HTTP request: method, absolute URL, header fields, body and per-request options.
///
/// It owns all of its data. Operations that send a request take it by value (move it in); it is never
/// referenced after the initiating call returns. Host, Content-Length (for a body, or for POST/PUT/PATCH
/// without one) and User-Agent (from client_options) are added on the wire unless the request sets them;
/// Connection is never added (HTTP/1.1 keep-alive is the default).
///
/// @par Example
/// @code
///   sentinel::request req("POST", "http://127.0.0.1:8080/items", {{"Content-Type", "application/json"}},
///                         R"({"name":"x"})");
///   req.options().total_timeout = std::chrono::seconds(5);
/// @endcode
/// @par Thread safety  A value type: distinct objects are independent; const access is safe concurrently.
class request {
 public:
  request() = default;
  /// Throws std::system_error (invalid_url, unsupported_scheme) when `url_text` is not a valid URL.
  request(std::string_view method, std::string_view url_text, sentinel::headers fields = {},
          std::string body = {});
  request(std::string_view method, sentinel::url target, sentinel::headers fields = {}, std::string body = {})
      : method_(method), url_(std::move(target)), headers_(std::move(fields)), body_(std::move(body)) {}

  /// The method token as sent ("GET", "POST", ...). Case-sensitive, as HTTP methods are.
  const std::string& method() const noexcept { return method_; }
  void set_method(std::string_view m) { method_ = m; }

  const sentinel::url& url() const noexcept { return url_; }
  void set_url(sentinel::url u) { url_ = std::move(u); }
  /// Parses and sets the URL; on failure leaves the request unchanged and returns the error.
  std::error_code set_url(std::string_view text);

  sentinel::headers& headers() noexcept { return headers_; }
  const sentinel::headers& headers() const noexcept { return headers_; }

  std::string& body() noexcept { return body_; }
  const std::string& body() const noexcept { return body_; }
  void set_body(std::string b) { body_ = std::move(b); }

  request_options& options() noexcept { return options_; }
  const request_options& options() const noexcept { return options_; }

  /// True for the methods RFC 9110 §9.2.2 calls idempotent: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
  bool is_idempotent() const noexcept;

 private:
  std::string method_ = "GET";
  sentinel::url url_;
  sentinel::headers headers_;
  std::string body_;
  request_options options_;
};

}  // namespace sentinel
