// A client whose connections are in-memory pipes (memory_stream.hpp, through the connector seam),
// answered on the client's own thread by a responder that writes the same pre-built reply for each
// request head. No kernel in the loop: what is left is the client's own work plus the responder's
// (small: callbacks, no coroutine, no allocation per request). Used by bench/request_overhead (which
// measures the responder alone as its floor) and by the allocation-budget test.
#pragma once

#include "client/client_access.hpp"
#include "support/memory_stream.hpp"
#include "transport/stream.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::test {

/// Answers every request head ("\r\n\r\n") read from its end with `reply`. Callbacks, no coroutine: the
/// responder's cost should be small next to what is measured.
class memory_responder : public std::enable_shared_from_this<memory_responder> {
 public:
  memory_responder(memory_stream end, std::shared_ptr<const std::string> reply)
      : s_(std::move(end)), reply_(std::move(reply)) {}
  void start() { read(); }

 private:
  void read() {
    s_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      if (ec) return;
      self->scan(n);
      self->read();
    });
  }
  // Counts the heads that ended in what was just read (a head may span reads).
  void scan(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const char c = buf_[i];
      matched_ = (c == "\r\n\r\n"[matched_]) ? matched_ + 1 : (c == '\r' ? 1 : 0);
      if (matched_ == 4) {
        matched_ = 0;
        std::error_code ec;
        s_.write_some(asio::buffer(reply_->data(), reply_->size()), ec);  // unbounded pipe: never blocks
      }
    }
  }

  memory_stream s_;
  std::shared_ptr<const std::string> reply_;
  std::array<char, 4096> buf_{};
  std::size_t matched_ = 0;
};

/// Makes `client` open every connection as a memory pipe answered by a memory_responder.
inline void use_memory_transport(sentinel::http_client& client, std::shared_ptr<const std::string> reply) {
  auto& core = sentinel::detail::client_access::core(client);
  core.conns->connector = [ex = core.ex, reply](
                              const sentinel::detail::route&,
                              sentinel::detail::stream& s) -> asio::awaitable<std::error_code> {
    auto [mine, theirs] = make_memory_pipe(ex);
    attach_memory(s, mine);
    std::make_shared<memory_responder>(theirs, reply)->start();
    co_return std::error_code{};
  };
}

}  // namespace sentinel::test
