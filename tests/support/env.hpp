// sentinel test support: paths that meson test hands to the tests through the environment
// (tests/meson.build). Environment, not -D: a compile command naming no absolute path is the same in
// every clone, so the compiler cache reuses it (docs/development.md).
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sentinel::test {

/// The value of `name`; throws, naming the variable, when it is unset or empty (the test was not started
/// by meson test).
inline std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    throw std::runtime_error(std::string(name) + " is not set: run this test through meson test");
  return v;
}

}  // namespace sentinel::test
