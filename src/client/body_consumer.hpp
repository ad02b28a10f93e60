// sentinel: the response_consumer of one exchange: decodes the content when asked to, delivers the body
// to the request's on_body callback or into response::body(), and swallows the body of a redirect that
// will be followed (users see only the final response). The user's callbacks may throw: the exception
// is kept for the caller and the exchange ends with a code, so nothing unwinds through the parser, the
// decoder or the connection's bookkeeping.
#pragma once

#include "session/exchange.hpp"
#include "wire/decoder.hpp"

#include <sentinel/options.hpp>
#include <sentinel/response.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>
#include <system_error>

namespace sentinel::detail {

class body_consumer final : public response_consumer {
 public:
  body_consumer(const request_options& ro, bool decompress, bool follow_redirects, std::size_t max_decoded)
      : ro_(ro), decompress_(decompress), follow_(follow_redirects), max_decoded_(max_decoded) {}

  std::error_code on_head(response& res) override;
  std::error_code on_body(std::string_view data) override;
  std::error_code on_end(response&) override;

  /// What on_head or on_body threw, if one did.
  std::exception_ptr thrown() const noexcept { return thrown_; }

 private:
  std::error_code deliver(std::string_view d);
  template <class F>
  std::error_code call_user(F&& f);

  const request_options& ro_;
  bool decompress_, follow_;
  std::size_t max_decoded_;
  response* res_ = nullptr;
  bool discard_ = false;
  std::uint64_t decoded_ = 0;
  content_decoder decoder_;
  std::exception_ptr thrown_;
};

}  // namespace sentinel::detail
