// sentinel CLI, bench mode: request loops on the client_pool's workers.
//
// The run: W workers (threads), C connections. Each worker gets one task (async_run) that runs its share
// of the C request loops as coroutines on the worker's thread, all with the worker's own http_client: a
// loop has one request in flight at a time, so the C loops hold C connections (with --http2 --streams M,
// C x M loops over C connections of M streams each, as h2load's -c and -m). Each task counts into its
// own tally (histogram included) with no locks and no atomics on the request path; the tallies are merged
// on the main thread when the tasks complete. The only shared writes are the ticket counter of -n (one
// relaxed fetch_add per request) and each worker's own progress counters (relaxed stores, read by the
// progress line).
//
// Closed loop: a loop sends its next request when the previous one completed; latency is measured from
// the send. With --rate R: loop g sends its k-th request at start + g/R + k*L/R (L loops; they interleave
// into one schedule of R req/s), and latency is measured from that intended time, so a server that
// falls behind shows its queueing delay in the latency instead of quietly lowering the rate (coordinated
// omission).
#include "bench.hpp"

#include "bench_report.hpp"
#include "common.hpp"
#include "errors.hpp"

#include <sentinel/client_pool.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <future>
#include <memory>

namespace sentinel::cli {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Set by SIGINT/SIGTERM: loops send nothing more, in-flight requests finish, the report is printed.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

extern "C" void on_interrupt(int) {
  g_interrupted.store(true, std::memory_order_relaxed);
}

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the program at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stopping() noexcept {
  return g_interrupted.load(std::memory_order_relaxed);
}

/// A worker's progress, for the live line: written by its worker only, read by the main thread.
struct alignas(64) progress_cell {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
  void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

/// The schedule every loop follows; read-only while the run lasts (except `tickets`).
struct run_plan {
  sentinel::request request;  ///< copied for every request
  clock::time_point start;
  std::optional<clock::time_point> deadline;  ///< -d: no request is sent (or scheduled) after it
  std::optional<std::uint64_t> limit;         ///< -n
  std::atomic<std::uint64_t> tickets{0};      ///< -n: requests handed out so far
  std::optional<double> period_ns;            ///< --rate: time between a loop's sends (C / R)
  double stagger_ns = 0;                      ///< --rate: offset between loops (1 / R)
};

/// One connection's worth of load: requests one after the other on `client`.
asio::awaitable<void> request_loop(sentinel::http_client& client, run_plan& plan, std::size_t loop, tally& t,
                                   progress_cell& progress) {
  sentinel::request proto = plan.request;
  proto.options().on_body = [](std::string_view) { return true; };  // counted by the client, not kept
  asio::steady_timer timer(client.get_executor());
  sentinel::response res;
  for (std::uint64_t k = 0;; ++k) {
    clock::time_point intended = clock::now();
    if (plan.period_ns) {
      const double offset =
          plan.stagger_ns * static_cast<double>(loop) + *plan.period_ns * static_cast<double>(k);
      intended = plan.start + std::chrono::nanoseconds(std::llround(offset));
      if (plan.deadline && intended >= *plan.deadline) break;
      // Wait in slices of at most 100 ms, so that an interrupt is noticed at a low rate too.
      while (!stopping() && clock::now() < intended) {
        timer.expires_at(std::min(intended, clock::now() + 100ms));
        co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      }
    } else if (plan.deadline && intended >= *plan.deadline) {
      break;
    }
    if (stopping()) break;
    if (plan.limit && plan.tickets.fetch_add(1, std::memory_order_relaxed) >= *plan.limit) break;
    if (!plan.period_ns) intended = clock::now();
    // The same request each time, into the same response (as wrk: nothing rebuilt per request).
    auto [ec] = co_await client.async_send(proto, res, asio::experimental::as_tuple(asio::use_awaitable));
    const auto latency = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - intended);
    if (ec) {
      t.add_error(error_kind(ec));
      progress.bump(progress.failed);
    } else {
      t.add_response(res.status(), static_cast<std::uint64_t>(latency.count()));
    }
    progress.bump(progress.done);
  }
}

/// One worker's task: `count` loops (global numbers first, first+1, ...) on this worker; returns its tally.
asio::awaitable<tally> run_loops(sentinel::worker& w, run_plan& plan, std::size_t first, std::size_t count,
                                 progress_cell& progress) {
  tally t;
  auto ex = w.get_executor();
  asio::steady_timer all_done(ex, clock::time_point::max());
  std::size_t running = count;
  for (std::size_t i = 0; i < count; ++i) {
    asio::co_spawn(ex, request_loop(w.client(), plan, first + i, t, progress), [&](std::exception_ptr e) {
      if (e) t.add_error("internal");  // a loop cannot throw but for bad_alloc; never hide it
      if (--running == 0) all_done.cancel();
    });
  }
  // The loops reference `t` and `running`: wait for every one of them, whatever wakes the timer.
  while (running > 0)
    co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  co_return t;
}

sentinel::pool_options pool_options_for(const bench_options& o, bool https_target, std::size_t workers,
                                        std::size_t per_worker) {
  sentinel::pool_options po;
  po.workers = workers;
  auto& c = po.client;
  c.timeouts.total = o.timeout;
  c.pool.max_per_origin = per_worker;  // -c counts connections, as wrk's and h2load's
  // HTTP/1.1 unless asked: the library's default would multiplex every loop of a worker on one HTTP/2
  // connection. With --http2, each connection carries --streams loops (h2load's -m).
  c.version = !o.http2       ? sentinel::http_version::http1_1
              : https_target ? sentinel::http_version::http2
                             : sentinel::http_version::http2_prior_knowledge;
  c.pool.max_streams_per_connection = o.streams;
  c.tls.ca_file = o.cacert;
  c.tls.insecure_skip_verify = o.insecure;
  return po;
}

void print_progress(const std::vector<std::unique_ptr<progress_cell>>& cells, clock::time_point start) {
  std::uint64_t done = 0, failed = 0;
  for (const auto& c : cells) {
    done += c->done.load(std::memory_order_relaxed);
    failed += c->failed.load(std::memory_order_relaxed);
  }
  const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
  std::printf("\r\033[K  %6.1f s  %llu requests  %.0f req/s  %llu errors", elapsed,
              static_cast<unsigned long long>(done), elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0,
              static_cast<unsigned long long>(failed));
  std::fflush(stdout);
}

}  // namespace

int run_bench(const bench_options& o) {
  std::error_code ec;
  std::string why;
  sentinel::url target = parse_cli_url(o.url, ec, why);
  if (ec) {
    std::fprintf(stderr, "sentinel bench: bad URL '%s': %s\n", o.url.c_str(), why.c_str());
    return exit_code_for(ec);
  }
  const std::size_t workers = std::min(o.workers, o.connections);
  const std::size_t per_worker = (o.connections + workers - 1) / workers;

  run_plan plan;
  plan.request = sentinel::request(o.method, target);
  for (const auto& h : o.headers) {
    const auto f = *parse_header_arg(h);  // validated by the parser
    plan.request.headers().add(f.name, f.value);
  }
  if (o.body) plan.request.set_body(*o.body);
  plan.limit = o.requests;
  const std::size_t loops = o.connections * o.streams;  // one per request in flight
  if (o.rate) {
    plan.period_ns = static_cast<double>(loops) * 1e9 / *o.rate;
    plan.stagger_ns = 1e9 / *o.rate;
  }

  install_interrupt_handler();
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  sentinel::client_pool pool(pool_options_for(o, target.is_https(), workers, per_worker));
  std::vector<std::unique_ptr<progress_cell>> cells;
  for (std::size_t i = 0; i < workers; ++i)
    cells.push_back(std::make_unique<progress_cell>());

  plan.start = clock::now();
  if (o.duration) plan.deadline = plan.start + *o.duration;
  std::vector<std::future<tally>> futures;
  std::size_t first = 0;
  for (std::size_t i = 0; i < workers; ++i) {
    // Connections spread as evenly as possible: the first C % W workers get one more; each carries
    // --streams loops.
    const std::size_t count = (o.connections / workers + (i < o.connections % workers ? 1 : 0)) * o.streams;
    progress_cell& cell = *cells[i];
    futures.push_back(pool.async_run(
        [&plan, first, count, &cell](sentinel::worker& w) { return run_loops(w, plan, first, count, cell); },
        asio::use_future));
    first += count;
  }

  run_summary s;
  for (auto& f : futures) {
    while (f.wait_for(250ms) != std::future_status::ready)
      if (tty) print_progress(cells, plan.start);
  }
  s.elapsed_s = std::chrono::duration<double>(clock::now() - plan.start).count();
  if (tty) std::printf("\r\033[K");
  for (auto& f : futures) {
    try {
      s.total.merge(f.get());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sentinel bench: a worker failed: %s\n", e.what());
      return exit_code::other;
    }
  }
  const auto stats = pool.stats();
  s.url = target.str();
  s.method = o.method;
  s.workers = workers;
  s.connections = o.connections;
  s.streams = o.streams;
  s.http2 = o.http2;
  s.rate = o.rate;
  s.request_limit = o.requests;
  if (o.duration) s.duration_limit = std::chrono::duration<double>(*o.duration).count();
  s.interrupted = stopping();
  s.bytes_received = stats.total.bytes_received;
  s.connections_opened = stats.total.connections_opened;

  const std::string report = o.json ? format_json(s) : format_text(s);
  std::fwrite(report.data(), 1, report.size(), stdout);
  std::fflush(stdout);
  if (s.total.responses == 0) {
    std::fprintf(stderr, "sentinel bench: no request succeeded\n");
    return exit_code::other;
  }
  return exit_code::ok;
}

}  // namespace sentinel::cli
