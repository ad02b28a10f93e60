// sentinel: the run loop of the pool's threads. See run_loop.hpp.
#include "client/run_loop.hpp"

#include <cstdio>
#include <typeinfo>

namespace sentinel::detail {
namespace {

void print(const char* thread_name, std::exception_ptr e, const char* what_happened) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "sentinel: %s: %s: %s\n", thread_name, what_happened, x.what());
  } catch (...) {
    std::fprintf(stderr, "sentinel: %s: %s (not a std::exception)\n", thread_name, what_happened);
  }
}

void report(const std::function<void(std::exception_ptr)>& hook, const char* thread_name,
            std::exception_ptr e) noexcept {
  if (!hook) return print(thread_name, e, "exception escaped a handler");
  try {
    hook(e);
  } catch (...) {
    // The hook is user code too; what it throws is printed and dropped (reporting it to the hook again
    // could loop).
    print(thread_name, std::current_exception(), "on_handler_exception threw");
  }
}

}  // namespace

void run_reporting(asio::io_context& ctx, const std::function<void(std::exception_ptr)>& hook,
                   const char* thread_name) noexcept {
  for (;;) {
    try {
      ctx.run();
      return;
    } catch (...) {
      report(hook, thread_name, std::current_exception());
    }
  }
}

}  // namespace sentinel::detail
