// sentinel tests and benchmarks: counts heap allocations by replacing the C allocator's entry points.
//
// Every allocation goes through the malloc family: operator new (libstdc++ calls malloc, and
// aligned_alloc for over-aligned types), Asio's recycling allocator and coroutine frames (aligned_alloc
// under ASIO_HAS_STD_ALIGNED_ALLOC), OpenSSL and nghttp2 (malloc, calloc, realloc). A replaced
// operator new alone misses the second kind, so this file defines malloc, calloc, realloc, free,
// aligned_alloc, posix_memalign, memalign, valloc and pvalloc, counts, and forwards to glibc's
// __libc_* functions. Link alloc_counter.cpp into the one program that wants it (a replaced malloc is
// process-wide), never into a sanitizer build (the sanitizers replace malloc themselves).
//
// Two ways to count, both off until turned on: per thread (a thread counts its own allocations), and
// all threads (for client_pool: the caller and every worker), with threads that must not be counted (an
// in-process server) excluded once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sentinel::test::alloc {

struct counts {
  std::uint64_t allocations = 0;
  std::uint64_t deallocations = 0;
  std::uint64_t bytes = 0;  // requested bytes of the allocations

  counts operator-(const counts& o) const noexcept {
    return {allocations - o.allocations, deallocations - o.deallocations, bytes - o.bytes};
  }
};

/// Turns counting on or off for the calling thread.
void count_this_thread(bool on) noexcept;
/// The calling thread's counts so far (counted while on).
counts this_thread() noexcept;

/// Turns counting on or off for every thread that is not excluded (totals in all_threads()).
void count_all_threads(bool on) noexcept;
/// What every counted thread allocated while all-thread counting was on.
counts all_threads() noexcept;
/// The calling thread is never counted by all-thread counting (an in-process server's thread).
void exclude_this_thread() noexcept;

/// Records a stack trace of each of the calling thread's next `n` counted allocations (diagnostics).
void trace_next(std::size_t n) noexcept;
/// The traces recorded so far, symbolized (dladdr + demangling; build with export_dynamic for names), one
/// block per allocation, with its size. Clears them.
std::string take_traces();

}  // namespace sentinel::test::alloc
