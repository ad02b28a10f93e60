// sentinel: the command-line tool. `sentinel [options] URL...` fetches like curl; `sentinel bench [options]
// URL` generates load. See docs/cli.md.
#include "bench.hpp"
#include "fetch.hpp"

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <exception>

int main(int argc, char** argv) {
  // A closed pipe on stdout must be a write error (exit 23), not a silent death by SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  try {
    if (argc > 1 && std::strcmp(argv[1], "bench") == 0) {
      auto parsed = sentinel::cli::parse_bench_args(argc - 1, argv + 1);
      return parsed.options ? sentinel::cli::run_bench(*parsed.options) : parsed.exit_code;
    }
    auto parsed = sentinel::cli::parse_fetch_args(argc, argv);
    return parsed.options ? sentinel::cli::run_fetch(*parsed.options) : parsed.exit_code;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "sentinel: internal error: %s\n", e.what());
    return 43;
  }
}
