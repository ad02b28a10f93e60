// sentinel: build configuration shared by every public header.
#pragma once

#include <version>

#define SENTINEL_VERSION_MAJOR 0
#define SENTINEL_VERSION_MINOR 1
#define SENTINEL_VERSION_PATCH 0
#define SENTINEL_VERSION_STRING "0.1.0"

// Asio 1.22 enables co_await for clang only with libc++'s <experimental/coroutine>.
// With libstdc++ (Debian's default) clang has <coroutine> but Asio does not notice.
#if defined(__clang__) && defined(__GLIBCXX__) && !defined(ASIO_HAS_CO_AWAIT)
#define ASIO_HAS_CO_AWAIT 1
#endif

// Owner checks: objects that belong to one executor (http_client and everything under it) assert that
// they are used only on the thread that first used them. On by default when NDEBUG is not defined; the
// build can force either way with -DSENTINEL_OWNER_CHECKS=0/1 (meson option owner_checks).
#ifndef SENTINEL_OWNER_CHECKS
#ifdef NDEBUG
#define SENTINEL_OWNER_CHECKS 0
#else
#define SENTINEL_OWNER_CHECKS 1
#endif
#endif

namespace sentinel {
/// The library version, "major.minor.patch".
inline constexpr const char* version_string = SENTINEL_VERSION_STRING;
}  // namespace sentinel
