// Question: what does one round trip through client_pool cost: an empty task sent from an outside thread
// with async_run, run on a worker, its completion delivered back to that outside thread's io_context?
//
// Peer: the least any thread hop can cost with Asio: two bare asio::post calls between the same two
// threads (post to a worker io_context, which posts back to the caller's io_context). Both are sequential
// (the next round trip starts in the previous one's completion), so the figure is latency, wake-ups
// included. A middle row, "post + co_spawn", posts to the worker, co_spawns an empty coroutine there and
// posts back: it separates the coroutine's share from the pool's own bookkeeping.
// Target (issue 8): client_pool <= 1.5x the bare posts. Also counted: heap allocations per round trip on
// both threads (a replaced operator new; design.md: "dispatch costs at most one atomic increment plus one
// post").
#include <sentinel/client_pool.hpp>

#include "bench_common.hpp"
#include "support/alloc_counter.hpp"

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

struct result {
  double wall_ns = 0;
  double cpu_ns = 0;  // process CPU (both threads) per round trip
  double allocs = 0;  // heap allocations per round trip, caller and worker threads together
};

// Counting allocations on the other thread: turned on there, and read there, by posting to it.
template <class Executor>
sentinel::test::alloc::counts remote_counts(const Executor& ex, bool enable) {
  std::promise<sentinel::test::alloc::counts> p;
  asio::post(ex, [&] {
    if (enable) sentinel::test::alloc::count_this_thread(true);
    p.set_value(sentinel::test::alloc::this_thread());
  });
  return p.get_future().get();
}

// (Handlers capture `next` by reference: copying the std::function would allocate.)
// Runs `n` sequential round trips started by `start(done)`; `done()` must be called on `home`'s thread.
// `remote` reads the other thread's allocation counts.
template <class Start, class Remote>
result measure(asio::io_context& home, std::size_t n, Start start, Remote remote) {
  const auto r0 = remote();
  const auto h0 = sentinel::test::alloc::this_thread();
  std::size_t left = n;
  std::function<void()> next;
  next = [&] {
    if (left-- == 0) {
      home.stop();
      return;
    }
    start(next);
  };
  home.restart();
  auto guard = asio::make_work_guard(home);  // between the two hops the caller's queue is empty
  const double cpu0 = bench::process_cpu_us();
  const auto t0 = bench::clock::now();
  asio::post(home, [&next] { next(); });
  home.run();
  result r;
  r.wall_ns = bench::seconds_since(t0) * 1e9 / static_cast<double>(n);
  r.cpu_ns = (bench::process_cpu_us() - cpu0) * 1e3 / static_cast<double>(n);
  const auto h1 = sentinel::test::alloc::this_thread();
  const auto r1 = remote();
  r.allocs = static_cast<double>((h1.allocations - h0.allocations) + (r1.allocations - r0.allocations)) /
             static_cast<double>(n);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = bench::parse_common_args(argc, argv, "dispatch.json");
  bench::watchdog(240, "dispatch");
  const std::size_t n = args.quick ? 5000 : 50000;
  const std::size_t warmup = args.quick ? 1000 : 5000;
  const int reps = args.quick ? 1 : 5;

  asio::io_context home{1};  // the outside thread's context: this (main) thread runs it

  // Peer: a bare worker thread with its own io_context.
  asio::io_context bare{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> bare_work(
      asio::make_work_guard(bare));
  std::thread bare_thread([&] { bare.run(); });

  sentinel::pool_options po;
  po.workers = 1;
  sentinel::client_pool pool(po);
  std::optional<asio::io_context::executor_type> worker_ex;

  auto two_posts = [&](std::function<void()>& next) {
    asio::post(bare, [&] { asio::post(home, [&next] { next(); }); });
  };
  auto post_co_spawn = [&](std::function<void()>& next) {
    asio::post(bare, [&] {
      asio::co_spawn(
          bare, []() -> asio::awaitable<void> { co_return; },
          [&](std::exception_ptr) { asio::post(home, [&next] { next(); }); });
    });
  };
  auto pool_run = [&](std::function<void()>& next) {
    pool.async_run([](sentinel::worker&) -> asio::awaitable<void> { co_return; },
                   asio::bind_executor(home, [&](std::exception_ptr e) {
                     if (e) std::abort();
                     next();
                   }));
  };

  struct row {
    const char* name;
    std::function<result(std::size_t)> run;
    std::vector<result> reps;
  };
  // Allocation counting on: this thread, the bare worker, the pool's worker.
  sentinel::test::alloc::count_this_thread(true);
  worker_ex = [&] {
    std::promise<asio::io_context::executor_type> p;
    pool.async_run(
        [&](sentinel::worker& w) -> asio::awaitable<void> {
          p.set_value(w.get_executor());
          co_return;
        },
        [](std::exception_ptr) {});
    return p.get_future().get();
  }();
  remote_counts(bare.get_executor(), true);
  remote_counts(*worker_ex, true);
  auto bare_counts = [&] { return remote_counts(bare.get_executor(), false); };
  auto pool_counts = [&] { return remote_counts(*worker_ex, false); };

  std::vector<row> rows{
      {"asio: post, post back", [&](std::size_t k) { return measure(home, k, two_posts, bare_counts); }, {}},
      {"asio: post, co_spawn, post back",
       [&](std::size_t k) { return measure(home, k, post_co_spawn, bare_counts); },
       {}},
      {"client_pool::async_run", [&](std::size_t k) { return measure(home, k, pool_run, pool_counts); }, {}},
  };

  for (auto& r : rows)
    r.run(warmup);
  std::vector<double> ratio, ratio_co, cpu_ratio;
  std::printf("dispatch: sequential round trips, %zu per rep, %d reps, interleaved\n", n, reps);
  std::printf("%-34s %6s %12s %14s %12s\n", "path", "rep", "wall ns/rt", "cpu ns/rt", "allocs/rt");
  for (int k = 0; k < reps; ++k) {
    for (auto& r : rows) {
      r.reps.push_back(r.run(n));
      std::printf("%-34s %6d %12.0f %14.0f %12.2f\n", r.name, k + 1, r.reps.back().wall_ns,
                  r.reps.back().cpu_ns, r.reps.back().allocs);
    }
    ratio.push_back(rows[2].reps.back().wall_ns / rows[0].reps.back().wall_ns);
    ratio_co.push_back(rows[2].reps.back().wall_ns / rows[1].reps.back().wall_ns);
    cpu_ratio.push_back(rows[2].reps.back().cpu_ns / rows[0].reps.back().cpu_ns);
  }

  if (std::find(args.rest.begin(), args.rest.end(), "--trace") != args.rest.end()) {
    // Where client_pool's allocations come from: one warm round trip, traced on both threads.
    rows[2].run(100);
    sentinel::test::alloc::trace_next(16);
    std::promise<void> armed;
    asio::post(*worker_ex, [&] {
      sentinel::test::alloc::trace_next(16);
      armed.set_value();
    });
    armed.get_future().get();
    rows[2].run(1);
    std::promise<std::string> worker_traces;
    asio::post(*worker_ex, [&] { worker_traces.set_value(sentinel::test::alloc::take_traces()); });
    std::printf("\nallocations of one client_pool round trip\ncaller thread:\n%sworker thread:\n%s",
                sentinel::test::alloc::take_traces().c_str(), worker_traces.get_future().get().c_str());
  }

  pool.stop();
  bare_work.reset();
  bare_thread.join();

  auto med = [](const std::vector<result>& v, double result::*f) {
    std::vector<double> x;
    for (const auto& r : v)
      x.push_back(r.*f);
    return bench::median(x);
  };

  bench::json j;
  j.begin_object();
  bench::json_header(
      j, "dispatch",
      "ns per round trip of an empty task through client_pool::async_run (outside thread -> worker "
      "-> back), vs two bare asio::post between the same two threads");
  j.num("round_trips_per_rep", static_cast<std::uint64_t>(n));
  j.begin_array("paths");
  for (const auto& r : rows) {
    j.begin_object();
    j.str("path", r.name);
    j.num("median_wall_ns", med(r.reps, &result::wall_ns));
    j.num("median_cpu_ns", med(r.reps, &result::cpu_ns));
    j.num("median_allocs_per_round_trip", med(r.reps, &result::allocs));
    j.begin_array("reps_wall_ns");
    for (const auto& x : r.reps)
      j.num("", x.wall_ns);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.num("median_ratio_pool_over_two_posts", bench::median(ratio));
  j.num("median_ratio_pool_over_post_co_spawn", bench::median(ratio_co));
  j.num("median_cpu_ratio_pool_over_two_posts", bench::median(cpu_ratio));
  j.num("target_ratio", 1.5);
  j.boolean("within_target", bench::median(ratio) <= 1.5);
  j.end_object();
  bench::write_file(args.json_path, j.text());

  std::printf("\nsummary (medians of %d reps; ratio per rep, then median)\n", reps);
  for (const auto& r : rows)
    std::printf("  %-34s %8.0f ns/round trip (process CPU %6.0f ns, %.2f allocations)\n", r.name,
                med(r.reps, &result::wall_ns), med(r.reps, &result::cpu_ns), med(r.reps, &result::allocs));
  std::printf("  ratio client_pool / two posts:      %.2f  (target <= 1.5: %s)\n", bench::median(ratio),
              bench::median(ratio) <= 1.5 ? "met" : "NOT met");
  std::printf("  ratio client_pool / post+co_spawn:  %.2f\n", bench::median(ratio_co));
  std::printf(
      "  process-CPU ratio client_pool / two posts: %.2f  (steadier than wall time on a busy machine)\n",
      bench::median(cpu_ratio));
  return 0;
}
