// sentinel CLI, bench mode: what the workers counted, merged, and printed as text or JSON.
#pragma once

#include "histogram.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sentinel::cli {

/// What one worker's request loops counted. Written only on that worker's thread (no locks, no atomics),
/// merged on the main thread after the worker's task finished.
struct tally {
  latency_histogram latency;    ///< complete responses only, ns from the intended send time
  std::uint64_t requests = 0;   ///< requests sent (responses + errors)
  std::uint64_t responses = 0;  ///< complete, well-formed responses, any status
  std::uint64_t errors = 0;     ///< requests that ended with an error
  std::vector<std::uint64_t> status = std::vector<std::uint64_t>(1000, 0);  ///< responses by status code
  std::map<std::string, std::uint64_t> error_kinds;                         ///< errors by error_kind()

  void add_response(int status_code, std::uint64_t latency_ns);
  void add_error(const std::string& kind);
  void merge(const tally& other);
};

/// The whole run.
struct run_summary {
  std::string url;
  std::string method;
  std::size_t workers = 0;
  std::size_t connections = 0;
  std::size_t streams = 1;                     ///< requests in flight per connection (--streams)
  bool http2 = false;                          ///< --http2
  std::optional<double> rate;                  ///< --rate, or closed loop
  std::optional<std::uint64_t> request_limit;  ///< -n
  std::optional<double> duration_limit;        ///< -d, seconds
  bool interrupted = false;                    ///< stopped early by SIGINT/SIGTERM
  double elapsed_s = 0;                        ///< from the start to the last response
  tally total;
  std::uint64_t bytes_received = 0;      ///< bytes read from sockets (heads and bodies), all workers
  std::uint64_t connections_opened = 0;  ///< TCP connections established, all workers
};

/// wrk-style text report (several lines, ends with a newline).
std::string format_text(const run_summary& s);
/// The same as one JSON object on one line, with a newline (keys in docs/cli.md). Latencies in
/// microseconds.
std::string format_json(const run_summary& s);

}  // namespace sentinel::cli
