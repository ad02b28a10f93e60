// sentinel: an HTTP request as a value.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/headers.hpp>
#include <sentinel/options.hpp>
#include <sentinel/url.hpp>

#include <asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
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
///   auto req = sentinel::request("POST", "http://127.0.0.1:8080/items")
///                  .header("Content-Type", "application/json");
///   req.set_body(R"({"name":"x"})");
///   req.options().total_timeout = std::chrono::seconds(5);
/// @endcode
/// @par Thread safety  A value type: distinct objects are independent; const access is safe concurrently.
class request {
 public:
  request() = default;
  /// Throws url_error (a std::system_error: invalid_url, unsupported_scheme) when `url_text` is not a
  /// valid URL; its what() says which part is wrong.
  request(std::string_view method, std::string_view url_text, sentinel::headers fields = {},
          std::string body = {});
  request(std::string_view method, sentinel::url target, sentinel::headers fields = {}, std::string body = {})
      : method_(method), url_(std::move(target)), headers_(std::move(fields)), body_(std::move(body)) {}

  /// The method token as sent ("GET", "POST", ...). Case-sensitive, as HTTP methods are.
  const std::string& method() const noexcept { return method_; }
  void set_method(std::string_view m) { method_ = m; }

  const sentinel::url& url() const& noexcept { return url_; }
  /// From a request that is done with: its URL moved out, not copied.
  sentinel::url url() && noexcept { return std::move(url_); }
  void set_url(sentinel::url u) { url_ = std::move(u); }
  /// Parses and sets the URL; on failure leaves the request unchanged and returns the error.
  std::error_code set_url(std::string_view text);

  sentinel::headers& headers() noexcept { return headers_; }
  const sentinel::headers& headers() const noexcept { return headers_; }

  /// Appends a header field and returns the request, to build one in a single expression:
  /// `request("GET", url).header("Accept", "text/plain").header("X-Trace", "1")`.
  request& header(std::string_view name, std::string_view value) & {
    headers_.add(name, value);
    return *this;
  }
  /// On a temporary, returns the request by value, so that the result never refers to a dead object.
  request header(std::string_view name, std::string_view value) && {
    headers_.add(name, value);
    return std::move(*this);
  }

  /// Where the body comes from.
  enum class body_kind {
    buffer,  ///< body(): a string in memory (the default; empty means no body)
    file,    ///< body_file(): read from a file when sent; Content-Length is its size then
    source,  ///< body_source(): produced while sent; chunked unless its length is given
  };

  /// Produces a request body while it is sent: called repeatedly on the client's executor (the worker's
  /// thread for a client_pool) with a buffer to fill; co_return the number of bytes written, 0 at the end.
  using body_source_fn = std::function<asio::awaitable<std::size_t>(std::span<char> buffer)>;

  body_kind body_type() const noexcept { return body_kind_; }

  /// The in-memory body (body_kind::buffer).
  std::string& body() noexcept { return body_; }
  const std::string& body() const noexcept { return body_; }
  void set_body(std::string b) {
    body_ = std::move(b);
    body_kind_ = body_kind::buffer;
  }

  /// Send the content of the file at `path` as the body; it is opened (and its size taken) each time the
  /// request is sent, so a retry or a 307/308 redirect sends it again. An unreadable file fails the
  /// request with the system's error before anything is sent.
  void set_body_file(std::string path) {
    body_file_ = std::move(path);
    body_.clear();
    body_kind_ = body_kind::file;
  }
  const std::string& body_file() const noexcept { return body_file_; }

  /// Send what `source` produces as the body: with `length` as Content-Length (producing a different
  /// number of bytes fails the request), or chunked when the length is unknown. A source cannot be
  /// replayed, so such a request is never retried and never follows a redirect (the 3xx is returned).
  void set_body_source(body_source_fn source, std::optional<std::uint64_t> length = std::nullopt) {
    body_source_ = std::make_shared<body_source_fn>(std::move(source));
    body_length_ = length;
    body_.clear();
    body_kind_ = body_kind::source;
  }
  const body_source_fn* body_source() const noexcept { return body_source_.get(); }
  std::optional<std::uint64_t> body_source_length() const noexcept { return body_length_; }

  /// Drops the body, whatever its kind.
  void clear_body() noexcept {
    body_.clear();
    body_file_.clear();
    body_source_.reset();
    body_length_.reset();
    body_kind_ = body_kind::buffer;
  }
  /// True unless the body is a source (which can be sent only once).
  bool body_replayable() const noexcept { return body_kind_ != body_kind::source; }

  request_options& options() noexcept { return options_; }
  const request_options& options() const noexcept { return options_; }

  /// True for the methods RFC 9110 §9.2.2 calls idempotent: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
  bool is_idempotent() const noexcept;

 private:
  std::string method_ = "GET";
  sentinel::url url_;
  sentinel::headers headers_;
  std::string body_;
  body_kind body_kind_ = body_kind::buffer;
  std::string body_file_;
  std::shared_ptr<body_source_fn> body_source_;  // shared: a request stays copyable
  std::optional<std::uint64_t> body_length_;
  request_options options_;
};

}  // namespace sentinel
