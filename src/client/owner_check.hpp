// sentinel: the owner-thread assertion for objects that belong to one executor.
//
// http_client and everything beneath it (connection_pool, connection) are single-threaded by design.
// With SENTINEL_OWNER_CHECKS=1 (the default in debug builds) each checked entry point verifies that it runs
// on the thread that owns the object, and aborts with a clear message otherwise: a data race found in a
// test instead of a corrupted pool found in production. See docs/architecture.md, "Threading rules".
#pragma once

#include <sentinel/config.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace sentinel::detail {

class owner_check {
 public:
  /// Binds to `t` (a worker binds its objects to its own thread before running them).
  void bind(std::thread::id t) noexcept { owner_.store(t, std::memory_order_relaxed); }

  /// Aborts when called off the owner thread. The first call binds an unbound object to the calling
  /// thread: an http_client on a user's executor belongs to the thread that first uses it.
  void check([[maybe_unused]] const char* what) const noexcept {
#if SENTINEL_OWNER_CHECKS
    const auto self = std::this_thread::get_id();
    auto owner = owner_.load(std::memory_order_relaxed);
    if (owner == std::thread::id()) {
      // First use: claim it. A concurrent first use from two threads is itself the bug we look for; the
      // compare-exchange makes the loser fail the check below.
      if (owner_.compare_exchange_strong(owner, self, std::memory_order_relaxed)) return;
    }
    if (owner != self) fail(what);
#endif
  }

 private:
  [[noreturn]] static void fail(const char* what) noexcept {
    std::fprintf(stderr,
                 "sentinel: %s used from a thread that does not own it. http_client and the objects under it "
                 "are single-threaded: use them only on their executor's thread, or use client_pool.\n",
                 what);
    std::abort();
  }

  mutable std::atomic<std::thread::id> owner_{};
};

}  // namespace sentinel::detail
