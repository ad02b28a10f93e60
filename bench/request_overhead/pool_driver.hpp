// request_overhead's client_pool modes: the same warm requests as the http_client modes, sent through
// client_pool::async_send from a caller's io_context (completions bound back to it) to one worker whose
// client speaks over the in-memory transport. Allocations are counted on every thread (the caller, the
// worker, the pool's completion thread: all-thread counting), CPU is the process's (no other thread
// works meanwhile: the loopback server idles), wall time is the caller's.
#pragma once

#include "bench_common.hpp"
#include "support/alloc_counter.hpp"
#include "support/memory_responder.hpp"

#include <sentinel/client_pool.hpp>

#include <asio/bind_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace bench {

/// Per-request figures of one measured phase (shared with request_overhead.cpp's drivers).
struct phase_result {
  std::size_t requests = 0;
  double wall_ns_per_req = 0;
  double cpu_us_per_req = 0;
  double allocs_per_req = 0;
  double frees_per_req = 0;
  double bytes_per_req = 0;
  std::uint64_t errors = 0;
};

/// The figures of a phase of `total` requests that took `wall_s` seconds and `cpu_us` of CPU and made the
/// allocations `a`.
inline phase_result per_request(std::size_t total, double wall_s, double cpu_us,
                                const sentinel::test::alloc::counts& a, std::uint64_t errors) {
  phase_result r;
  r.requests = total;
  const double n = static_cast<double>(total);
  r.wall_ns_per_req = wall_s * 1e9 / n;
  r.cpu_us_per_req = cpu_us / n;
  r.allocs_per_req = static_cast<double>(a.allocations) / n;
  r.frees_per_req = static_cast<double>(a.deallocations) / n;
  r.bytes_per_req = static_cast<double>(a.bytes) / n;
  r.errors = errors;
  return r;
}

class pool_driver {
 public:
  pool_driver(asio::io_context& caller, sentinel::client_pool& pool, const sentinel::request& proto)
      : caller_(caller), pool_(pool), proto_(proto) {}

  /// Makes each of the pool's `workers` workers open its connections as memory pipes (round robin: one
  /// task per worker), answered with `reply` on that worker.
  void use_memory_transport(std::size_t workers, std::shared_ptr<const std::string> reply) {
    for (std::size_t i = 0; i < workers; ++i)
      pool_
          .async_run(
              [reply](sentinel::worker& w) -> asio::awaitable<void> {
                sentinel::test::use_memory_transport(w.client(), reply);
                co_return;
              },
              asio::use_future)
          .get();
  }

  phase_result run(std::size_t total, std::size_t depth) {
    namespace alloc = sentinel::test::alloc;
    remaining_ = total;
    in_flight_ = 0;
    errors_ = 0;
    excluded_ = {};
    caller_.restart();
    auto guard = asio::make_work_guard(caller_);  // stop() ends the phase
    const auto a0 = alloc::all_threads();
    const double cpu0 = bench::process_cpu_us();
    const auto t0 = bench::clock::now();
    for (std::size_t i = 0; i < depth && remaining_ > 0; ++i)
      start_one();
    caller_.run();
    const double wall = bench::seconds_since(t0);
    const double cpu = bench::process_cpu_us() - cpu0;
    return per_request(total, wall, cpu, alloc::all_threads() - a0 - excluded_, errors_);
  }

 private:
  void start_one() {
    namespace alloc = sentinel::test::alloc;
    --remaining_;
    ++in_flight_;
    // The caller's copy of the request is the caller's cost (this thread counts itself too, so the copy's
    // share of the all-thread figure is known exactly).
    const auto before = alloc::this_thread();
    sentinel::request req = proto_;
    const auto copy = alloc::this_thread() - before;
    excluded_.allocations += copy.allocations;
    excluded_.bytes += copy.bytes;
    pool_.async_send(std::move(req),
                     asio::bind_executor(caller_, [this](std::error_code ec, sentinel::response res) {
                       if (ec || res.status() != 200 || res.body().size() != 13) {
                         if (errors_++ == 0)
                           std::fprintf(stderr, "pool request failed: %s (status %d)\n", ec.message().c_str(),
                                        res.status());
                       }
                       --in_flight_;
                       if (remaining_ > 0) {
                         start_one();
                       } else if (in_flight_ == 0) {
                         caller_.stop();
                       }
                     }));
  }

  asio::io_context& caller_;
  sentinel::client_pool& pool_;
  const sentinel::request& proto_;
  std::size_t remaining_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t errors_ = 0;
  sentinel::test::alloc::counts excluded_;
};

}  // namespace bench
