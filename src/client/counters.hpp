// sentinel: what the client counts itself (requests, errors, retries, redirects), and its stats snapshot.
//
// The client's counters are one of three sets: the pool's and the transport's are their own
// (transport/counters.hpp says how counters work). SENTINEL_CLIENT_STATS lists every field of the
// public client_stats, layer by layer; a static_assert below keeps the list and the struct the same size.
#pragma once

#include "pool/connection_pool.hpp"
#include "transport/counters.hpp"

#include <sentinel/stats.hpp>

#define SENTINEL_EXCHANGE_STATS(X) \
  X(requests)                      \
  X(errors)                        \
  X(timeouts)                      \
  X(retries)                       \
  X(redirects)                     \
  X(connections_reused)

#define SENTINEL_CLIENT_STATS(X) SENTINEL_EXCHANGE_STATS(X) SENTINEL_POOL_STATS(X) SENTINEL_TRANSPORT_STATS(X)

namespace sentinel::detail {

/// What a client's exchanges count.
struct exchange_counters {
  SENTINEL_EXCHANGE_STATS(SENTINEL_COUNTER_MEMBER)
  void read_into(client_stats& s) const noexcept { SENTINEL_EXCHANGE_STATS(SENTINEL_COUNTER_READ) }
};

#define SENTINEL_STATS_ONE(name) +1
static_assert(sizeof(client_stats) == (0 SENTINEL_CLIENT_STATS(SENTINEL_STATS_ONE)) * sizeof(std::uint64_t),
              "client_stats and SENTINEL_CLIENT_STATS list different fields");
#undef SENTINEL_STATS_ONE

/// Every layer's counters, read into one client_stats.
inline client_stats snapshot(const exchange_counters& client, const pool_counters& pool,
                             const transport_counters& transport) noexcept {
  client_stats s;
  client.read_into(s);
  pool.read_into(s);
  transport.read_into(s);
  return s;
}

}  // namespace sentinel::detail
