// sentinel: reading response bytes. See reader.hpp.
#include "http1/reader.hpp"

#include "transport/cancel.hpp"

#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace sentinel::detail {

void response_reader::note_read(deadline_set& d, const std::weak_ptr<void>& life) noexcept {
  // The idle timeout runs from the first response byte on. Before it, the server is still working on its
  // answer, which response_head bounds: otherwise an idle_read shorter than response_head (as in the
  // defaults) would cut every slow answer short, and with the wrong error.
  if (idle_timeout_.count() > 0 && in_.bytes() > 0) {
    d.set_extra(http1_deadlines::idle, clock::now() + idle_timeout_, error::idle_timeout);
    d.arm(life);
  }
}

task<std::error_code> response_reader::fill(stream& s, deadline_set& d, connection_context& ctx,
                                            const std::weak_ptr<void>& life, chunk& c) {
  const task_context& tc = co_await this_task;
  std::error_code ec;
  for (;;) {
    if (d.fired()) co_return d.fired_or(ec);
    if (http1_deadlines::continue_expired(d)) {
      // The Expect: 100-continue wait is over: hand back what we have (maybe nothing), so the body goes.
      c = in_.kept(s, ctx);
      co_return std::error_code{};
    }
    if (!wait_first_) {
      ec = in_.take(s, ctx, c);
      if (ec != asio::error::would_block) co_return ec;  // bytes, the end of the stream, or an error
      ec.clear();
    }
    wait_first_ = false;
    note_read(d, life);
    ec = co_await in_.async_wait(s, ctx, use_task);
    if (ec == asio::error::operation_aborted && !d.fired() && http1_deadlines::continue_expired(d))
      continue;  // see above
    if (!ec && was_cancelled(tc.cancellation_state())) ec = asio::error::operation_aborted;
    if (ec) {
      c = in_.kept(s, ctx);  // what came with a cancellation stays new, for the next take()
      co_return d.fired_or(ec);
    }
  }
}

asio::awaitable<std::error_code> response_reader::fill_after_peer_gone(stream& s, deadline_set& d,
                                                                       connection_context& ctx,
                                                                       const std::weak_ptr<void>& life,
                                                                       chunk& c) {
  std::error_code ec = in_.take(s, ctx, c);
  if (ec == asio::error::would_block && inbound::wait_reads(s)) {
    wait_first_ = true;  // take() just said there is nothing new: the read is next
    ec = co_await fill_awaitable(s, d, ctx, life, c);
  }
  co_return ec;
}

asio::awaitable<std::error_code> response_reader::fill_awaitable(stream& s, deadline_set& d,
                                                                 connection_context& ctx,
                                                                 const std::weak_ptr<void>& life, chunk& c) {
  // Its own chain, under the calling thread's cancellation (which the awaitable code checks itself too).
  co_return co_await async_run(fill(s, d, ctx, life, c), co_await asio::this_coro::executor,
                               asio::use_awaitable);
}

}  // namespace sentinel::detail
