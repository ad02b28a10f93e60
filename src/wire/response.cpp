// sentinel: response members that are not inline. Wire code: no Asio.
#include <sentinel/response.hpp>

namespace sentinel {

void response::clear() noexcept {
  status_ = 0;
  version_ = 11;
  reason_.clear();
  headers_.clear();
  trailers_.clear();
  body_.clear();
  url_.clear();
  info_ = transfer_info();
}

}  // namespace sentinel
