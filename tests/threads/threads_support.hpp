// Helpers shared by the threads tests (client_pool across threads, under TSan and ASan).
#pragma once

#include <sentinel/options.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <thread>

namespace sentinel::test {

inline pool_options with_workers(std::size_t n) {
  pool_options o;
  o.workers = n;
  return o;
}

/// Runs `fn` on its own thread and waits up to `timeout` for it. A call that does not return (a drain
/// that spins on a leaked count, say) fails the test run at once: the process exits with a message
/// rather than hang, since the objects `fn` uses cannot be torn down under it.
inline void finishes_within(std::chrono::milliseconds timeout, std::function<void()> fn, const char* what) {
  std::packaged_task<void()> task(std::move(fn));
  auto done = task.get_future();
  std::thread t(std::move(task));
  if (done.wait_for(timeout) != std::future_status::ready) {
    std::fprintf(stderr, "FAILED: %s did not return within %lld ms\n", what,
                 static_cast<long long>(timeout.count()));
    std::fflush(stderr);
    std::_Exit(3);
  }
  t.join();
  done.get();  // rethrows what fn threw
}

}  // namespace sentinel::test
