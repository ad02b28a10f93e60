// sentinel CLI, bench mode: `sentinel bench [options] URL`, load generation on the client_pool
// (docs/cli.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sentinel::cli {

/// Everything bench mode was asked to do.
struct bench_options {
  std::size_t workers = 1;                            ///< -w: worker threads (at most `connections` are used)
  std::size_t connections = 10;                       ///< -c: concurrent request loops, spread over workers
  std::optional<std::chrono::milliseconds> duration;  ///< -d (10 s unless -n is given)
  std::optional<std::uint64_t> requests;              ///< -n: total requests
  std::optional<double> rate;                         ///< --rate: requests per second, over all connections
  std::string method = "GET";                         ///< -m (POST when --body is given without -m)
  std::vector<std::string> headers;                   ///< -H
  std::optional<std::string> body;                    ///< --body (after reading @FILE)
  std::chrono::milliseconds timeout{10000};           ///< --timeout: each request's total timeout (0: none)
  bool json = false;                                  ///< --json
  bool insecure = false;                              ///< -k
  std::string cacert;                                 ///< --cacert
  bool http2 = false;                                 ///< --http2: h2 by ALPN (https), h2c (http)
  std::size_t streams = 1;                            ///< --streams: requests in flight per connection
  std::string url;
};

struct bench_parse_result {
  std::optional<bench_options> options;
  int exit_code = 0;
};
/// Parses `sentinel bench ...` (argv[0] is "bench"). Like parse_fetch_args: the options, or the exit
/// code (0 after --help, 2 after a usage error).
bench_parse_result parse_bench_args(int argc, char** argv);

/// Runs the benchmark and prints the report. Exit code: 0 when the run completed and at least one
/// complete response arrived (errors are reported, not fatal, as with wrk); 1 when no request succeeded;
/// 3 for a bad URL.
int run_bench(const bench_options& options);

}  // namespace sentinel::cli
