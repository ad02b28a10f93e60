// sentinel: the run loop of every thread a client_pool owns (its workers and its completion thread).
//
// One rule for all of them (docs/cancellation.md, "Exceptions"): an exception of any type that escapes a
// handler is reported to pool_options::on_handler_exception (or, without one, printed on stderr with the
// thread's name) and the thread goes on running, because the tasks and completions queued behind the
// throwing handler must still run: stopping the thread would lose them, and terminating would turn a
// bug in one callback into the loss of every request in flight.
#pragma once

#include <asio/io_context.hpp>

#include <exception>
#include <functional>

namespace sentinel::detail {

/// Runs `ctx` until run() returns normally, reporting each exception that escapes a handler.
void run_reporting(asio::io_context& ctx, const std::function<void(std::exception_ptr)>& hook,
                   const char* thread_name) noexcept;

}  // namespace sentinel::detail
