// sentinel: a client's counters: written by its one thread, read (stats()) by any.
//
// The list of counters is written once, here (SENTINEL_CLIENT_STATS); the public client_stats in
// stats.hpp declares the same names with their documentation, and snapshot() / operator+= are generated
// from this list, so a new counter is two lines: its doc'd field in stats.hpp, its name here.
#pragma once

#include <sentinel/stats.hpp>

#include <atomic>
#include <cstdint>

#define SENTINEL_CLIENT_STATS(X)                                                                          \
  X(requests)                                                                                             \
  X(errors)                                                                                               \
  X(timeouts)                                                                                             \
  X(retries)                                                                                              \
  X(redirects) X(connections_opened) X(connections_reused) X(tls_handshakes) X(tls_resumed) X(bytes_sent) \
      X(bytes_received) X(open_connections) X(idle_connections)

namespace sentinel::detail {

/// A counter written by one thread and read by any: relaxed load+store, no locked instruction.
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

struct client_counters {
#define SENTINEL_COUNTER_MEMBER(name) counter name;
  SENTINEL_CLIENT_STATS(SENTINEL_COUNTER_MEMBER)
#undef SENTINEL_COUNTER_MEMBER

  client_stats snapshot() const noexcept {
    client_stats s;
#define SENTINEL_COUNTER_READ(name) s.name = name.get();
    SENTINEL_CLIENT_STATS(SENTINEL_COUNTER_READ)
#undef SENTINEL_COUNTER_READ
    return s;
  }
};

}  // namespace sentinel::detail
