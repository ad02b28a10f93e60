// sentinel fuzz targets: the invariant check shared by every target.
//
// FUZZ_CHECK aborts with the failed condition: libFuzzer reports the abort as a crash and saves the input,
// and replay_main (the g++ corpus replay) fails the meson test. It is on in every build type, unlike
// assert().
#pragma once

#include <cstdio>
#include <cstdlib>

namespace sentinel::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sentinel::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::sentinel::fuzz::check_failed(#cond, __FILE__, __LINE__))
