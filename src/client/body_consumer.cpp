// sentinel: delivering a response body. See body_consumer.hpp.
#include "client/body_consumer.hpp"

#include "client/redirect.hpp"

#include <algorithm>
#include <charconv>

namespace sentinel::detail {

template <class F>
std::error_code body_consumer::call_user(F&& f) {
  try {
    if (f()) return {};
    return make_error_code(error::aborted_by_callback);
  } catch (...) {
    thrown_ = std::current_exception();
    return make_error_code(error::callback_threw);
  }
}

std::error_code body_consumer::on_head(response& res) {
  res_ = &res;
  discard_ = follow_ && is_redirect(res.status()) && res.headers().contains("Location");
  if (discard_) return {};
  decoder_.reset();
  if (decompress_) {
    if (auto ce = res.headers().get("Content-Encoding")) {
      if (auto ec = decoder_.init(*ce)) return ec;
      if (decoder_.active()) {
        // The fields now describe the decoded body the caller gets.
        res.headers().erase("Content-Encoding");
        res.headers().erase("Content-Length");
      }
    }
  }
  if (!decoder_.active() && !ro_.on_body) {
    if (auto cl = res.headers().get("Content-Length")) {
      std::uint64_t n = 0;
      std::from_chars(cl->data(), cl->data() + cl->size(), n);
      res.body().reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, 64u << 20)));
    }
  }
  if (ro_.on_head) return call_user([&] { return ro_.on_head(res); });
  return {};
}

std::error_code body_consumer::on_body(std::string_view data) {
  if (discard_) return {};
  if (!decoder_.active()) return deliver(data);
  auto sink = [this](std::string_view d) { return deliver(d); };
  return decoder_.write(data, sink);
}

std::error_code body_consumer::on_end(response&) {
  if (discard_ || !decoder_.active()) return {};
  auto sink = [this](std::string_view d) { return deliver(d); };
  return decoder_.finish(sink);
}

std::error_code body_consumer::deliver(std::string_view d) {
  if (decoder_.active()) {
    decoded_ += d.size();
    if (max_decoded_ != 0 && decoded_ > max_decoded_) return make_error_code(error::decoded_too_large);
  }
  if (ro_.on_body) return call_user([&] { return ro_.on_body(d); });
  res_->body().append(d);
  return {};
}

}  // namespace sentinel::detail
