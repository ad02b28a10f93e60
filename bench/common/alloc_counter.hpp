// sentinel benchmarks: counts heap allocations made by chosen threads (replaces global operator new).
//
// Link alloc_counter.cpp into the one benchmark program that wants it (never into the common library: a
// replaced operator new is process-wide). Counting is off by default and per thread: a thread turns it on
// for itself, so a server thread in the same process is never counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bench::alloc {

struct counts {
  std::uint64_t allocations = 0;
  std::uint64_t deallocations = 0;
  std::uint64_t bytes = 0;  // requested bytes of the allocations
};

/// Turns counting on or off for the calling thread.
void count_this_thread(bool on) noexcept;
/// The calling thread's counts so far (counted while on).
counts this_thread() noexcept;

/// Records a stack trace of each of the calling thread's next `n` counted allocations (diagnostics).
void trace_next(std::size_t n) noexcept;
/// The traces recorded so far, symbolized (dladdr + demangling; build with export_dynamic for names), one
/// block per allocation, with its size. Clears them.
std::string take_traces();

}  // namespace bench::alloc
