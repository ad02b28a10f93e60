// Helpers shared by the threads tests (client_pool across threads, under TSan and ASan).
#pragma once

#include <sentinel/options.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace sentinel::test {

inline pool_options with_workers(std::size_t n) {
  pool_options o;
  o.workers = n;
  return o;
}

/// Blocks until `n` completions were counted or `timeout` passes.
class latch {
 public:
  explicit latch(std::size_t n) : left_(n) {}
  void count_down() {
    std::lock_guard l(m_);
    if (left_ > 0 && --left_ == 0) cv_.notify_all();
  }
  bool wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, timeout, [&] { return left_ == 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t left_;
};

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
