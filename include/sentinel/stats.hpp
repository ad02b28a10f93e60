// sentinel: counters reported by http_client and client_pool.
#pragma once

#include <sentinel/config.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sentinel {

/// Counters of one http_client (one worker). Monotonic except the two gauges at the end.
struct client_stats {
  std::uint64_t requests = 0;            ///< Exchanges finished (successfully or not); redirects count once.
  std::uint64_t errors = 0;              ///< Exchanges that completed with an error.
  std::uint64_t timeouts = 0;            ///< Errors that were one of the timeouts.
  std::uint64_t retries = 0;             ///< Silent retries: a stale pooled connection, or a refusal.
  std::uint64_t redirects = 0;           ///< Redirects followed.
  std::uint64_t connections_opened = 0;  ///< TCP connections established.
  std::uint64_t connections_reused = 0;  ///< Requests sent over a pooled (reused) connection.
  std::uint64_t tls_handshakes = 0;      ///< TLS handshakes completed.
  std::uint64_t tls_resumed = 0;         ///< ... of which resumed a previous session.
  std::uint64_t bytes_sent = 0;          ///< Request bytes written (heads and bodies).
  std::uint64_t bytes_received = 0;      ///< Response bytes read (heads and bodies, before decoding).
  std::uint64_t open_connections = 0;    ///< Gauge: connections open now (idle included).
  std::uint64_t idle_connections = 0;    ///< Gauge: idle keep-alive connections now.

  client_stats& operator+=(const client_stats& o) noexcept;
};

/// One worker of a client_pool.
struct worker_stats {
  std::size_t id = 0;                 ///< The worker's id (stable for its lifetime, never reused).
  std::uint64_t tasks = 0;            ///< Tasks (async_run and async_send) started on this worker.
  std::uint64_t tasks_in_flight = 0;  ///< Gauge: tasks started and not yet finished.
  /// The worker is leaving (scale_down, stop): it takes no new tasks and finishes those it has.
  bool draining = false;
  /// ... and pool_options::drain_timeout has passed: its running tasks were cancelled (terminal), and a
  /// task admitted earlier that starts now completes with operation_aborted without running.
  bool drain_deadline_passed = false;
  client_stats client;  ///< The worker's http_client.
};

/// A snapshot of a client_pool: each live worker (those still draining included), and totals over live
/// workers plus retired ones.
struct pool_stats {
  std::vector<worker_stats> workers;
  std::uint64_t tasks = 0;  ///< Tasks started, over the pool's lifetime.
  client_stats total;       ///< Sum over the pool's lifetime (removed workers included); gauges: live only.
};

}  // namespace sentinel
