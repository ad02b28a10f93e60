// tests/cli: runs the built `sentinel` tool as a child process and captures what it did.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sentinel::test::cli {

/// What one run of the tool did.
struct tool_run {
  int exit_code = -1;  ///< the exit status, or 128 + signal number
  std::string out;     ///< everything written to stdout
  std::string err;     ///< everything written to stderr
  /// Peak resident memory of the tool (VmHWM, sampled every 20 ms while it runs; 0 if it exited before the
  /// first sample). Not the reaped child's ru_maxrss: posix_spawn lends the child this process's memory
  /// map until exec, and Linux folds that map's high-water mark into the child's maxrss, so a large test
  /// process made every child look large.
  long max_rss_kib = 0;
};

/// Options of one run.
struct run_options {
  std::string stdin_data;                    ///< written to a file that becomes the child's stdin
  std::string stdout_path;                   ///< if set: the child's stdout goes there (e.g. /dev/full)
  std::chrono::milliseconds timeout{30000};  ///< the child is killed (and the test FAILs) after this
};

/// The path of the tool under test (SENTINEL_CLI_PATH, set by tests/cli/meson.build).
std::string tool_path();

/// Runs `sentinel args...` to completion (bounded) with stdout and stderr captured separately.
tool_run run_tool(const std::vector<std::string>& args, const run_options& opts);
inline tool_run run_tool(const std::vector<std::string>& args) {
  return run_tool(args, run_options());
}

}  // namespace sentinel::test::cli
