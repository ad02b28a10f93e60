// sentinel: counters written by one thread and read (stats()) by any, and the transport's own.
//
// Each layer counts what it does, in a struct of its own: the transport its connections, TLS handshakes
// and bytes (here), the pool its open and idle connections (pool/connection_pool.hpp), the client its
// requests, errors, retries and redirects (client/counters.hpp). A list macro per layer names the fields
// once; the public client_stats (stats.hpp) declares the same names with their documentation, and the
// client's snapshot reads every layer's list into it, so a new counter is two lines: its doc'd field in
// stats.hpp, its name in its layer's list.
#pragma once

#include <sentinel/stats.hpp>

#include <atomic>
#include <cstdint>

#define SENTINEL_TRANSPORT_STATS(X) \
  X(connections_opened)             \
  X(tls_handshakes)                 \
  X(tls_resumed)                    \
  X(bytes_sent)                     \
  X(bytes_received)

// Members of a counters struct, and the statements that copy them into a client_stats `s`.
#define SENTINEL_COUNTER_MEMBER(name) ::sentinel::detail::counter name;
#define SENTINEL_COUNTER_READ(name) s.name = name.get();

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

/// What the transport counts (and the protocols above it, for bytes on a stream).
struct transport_counters {
  SENTINEL_TRANSPORT_STATS(SENTINEL_COUNTER_MEMBER)
  void read_into(client_stats& s) const noexcept { SENTINEL_TRANSPORT_STATS(SENTINEL_COUNTER_READ) }
};

}  // namespace sentinel::detail
