// sentinel CLI, fetch mode: `sentinel [options] URL...` with curl's option names (docs/cli.md).
#pragma once

#include <sentinel/options.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace sentinel::cli {

/// One -d/--data or --data-binary argument, in command-line order.
struct data_arg {
  bool binary = false;  ///< --data-binary: sent as is; -d: CR and LF are removed from @FILE content
  std::string value;    ///< the data, or "@FILE" ("@-" is standard input)
};

/// Everything fetch mode was asked to do.
struct fetch_options {
  bool silent = false;                                ///< -s
  bool show_error = false;                            ///< -S
  bool include = false;                               ///< -i
  bool head = false;                                  ///< -I
  bool location = false;                              ///< -L
  bool compressed = false;                            ///< --compressed
  bool insecure = false;                              ///< -k
  bool fail = false;                                  ///< -f
  bool verbose = false;                               ///< -v
  std::optional<http_version> version;                ///< --http1.1, --http2, --http2-prior-knowledge
  std::string method;                                 ///< -X (empty: GET, HEAD with -I, POST with data)
  std::vector<std::string> headers;                   ///< -H, as given
  std::vector<data_arg> data;                         ///< -d and --data-binary, in order
  std::vector<std::string> outputs;                   ///< -o, one per URL in order
  long max_redirs = 50;                               ///< --max-redirs (curl's default; -1 = unlimited)
  std::optional<std::chrono::milliseconds> max_time;  ///< --max-time
  std::optional<std::chrono::milliseconds> connect_timeout;  ///< --connect-timeout
  std::string cacert;                                        ///< --cacert
  std::string capath;                                        ///< --capath
  std::string write_out;                                     ///< -w (after reading @FILE)
  std::vector<std::string> urls;
};

/// Parses fetch mode's command line. Returns the options, or the exit code when the program is done:
/// 0 after --help or --version, 2 (usage) after printing a one-line error and a hint to stderr.
struct fetch_parse_result {
  std::optional<fetch_options> options;
  int exit_code = 0;
};
fetch_parse_result parse_fetch_args(int argc, char** argv);

/// Runs every transfer, one after the other through one client. Returns the exit code: 0, or the code
/// of the last transfer that failed.
int run_fetch(const fetch_options& options);

}  // namespace sentinel::cli
