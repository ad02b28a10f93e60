// thread_safety_demo: client-per-worker under load, and proof that nothing is lost.
//
//   thread_safety_demo [--workers N] [--requests M] [--url URL] [--server-threads T]
//
// Starts a client_pool of N workers (threads), and runs one task per worker; each task sends M requests
// with its worker's own http_client (keep-alive, no locks, no sharing) and checks that every answer is the
// one it asked for. Without --url it starts a built-in local server, so it runs anywhere.
// Prints workers, requests, successes, errors, duration, req/s, p50/p99 latency and peak RSS.
// Exits 1 on any error, wrong answer or lost request; 2 on bad arguments.
#include <sentinel/sentinel.hpp>

#include "common/local_server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

struct options {
  std::size_t workers = 100;
  std::size_t requests = 100;  // per worker
  std::string url;
  unsigned server_threads = 1;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "thread_safety_demo: %s\nusage: thread_safety_demo [--workers N] [--requests M] [--url URL]"
               " [--server-threads T]\n",
               msg);
  std::exit(2);
}

std::size_t parse_count(const char* s, const char* what) {
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s, s + std::strlen(s), v);
  if (ec != std::errc() || *p != '\0' || v == 0) usage((std::string("bad ") + what).c_str());
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage(("missing value for " + std::string(a)).c_str());
      return argv[++i];
    };
    if (a == "--workers" || a == "-w")
      o.workers = parse_count(next(), "--workers");
    else if (a == "--requests" || a == "-n")
      o.requests = parse_count(next(), "--requests");
    else if (a == "--url")
      o.url = next();
    else if (a == "--server-threads")
      o.server_threads = static_cast<unsigned>(parse_count(next(), "--server-threads"));
    else if (a == "--help" || a == "-h")
      usage("help");
    else
      usage(("unknown option " + std::string(a)).c_str());
  }
  return o;
}

// Each worker uses a few descriptors (epoll, eventfd, timerfd, its sockets); 1000 workers need more than
// the usual soft limit of 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// What one task (one worker) saw.
struct task_result {
  std::size_t ok = 0, errors = 0, wrong = 0;
  std::vector<std::uint32_t> latency_us;
  std::string first_error;
};

}  // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);
  raise_fd_limit();

  std::optional<examples::local_server> server;
  std::string base = opt.url;
  if (base.empty()) {
    server.emplace(opt.server_threads);
    base = server->url("/");
  }
  std::error_code ec;
  const sentinel::url parsed = sentinel::url::parse(base, ec);
  if (ec) usage(("bad --url: " + ec.message()).c_str());
  const bool check_echo = opt.url.empty();  // the built-in server echoes the target

  sentinel::pool_options po;
  po.workers = opt.workers;
  const long rss_before = peak_rss_kib();
  auto pool = std::make_unique<sentinel::client_pool>(po);

  // One task per worker: round robin hands task i to worker i. Each runs wholly on its worker's thread,
  // with that worker's own client, and completes here through a future.
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::future<task_result>> futures;
  futures.reserve(opt.workers);
  for (std::size_t t = 0; t < opt.workers; ++t) {
    futures.push_back(pool->async_run(
        [&, t](sentinel::worker& w) -> asio::awaitable<task_result> {
          task_result r;
          r.latency_us.reserve(opt.requests);
          std::error_code uec;
          for (std::size_t i = 0; i < opt.requests; ++i) {
            const std::string path =
                "/w" + std::to_string(w.id()) + "/t" + std::to_string(t) + "/r" + std::to_string(i);
            sentinel::request req("GET", parsed.resolve(path, uec));
            const auto t0 = std::chrono::steady_clock::now();
            auto [err, res] = co_await w.client().async_send(
                std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
            r.latency_us.push_back(static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
                    .count()));
            if (err) {
              if (r.first_error.empty()) r.first_error = err.message();
              ++r.errors;
            } else if (res.status() != 200 || (check_echo && res.body() != path)) {
              if (r.first_error.empty())
                r.first_error = "wrong answer: status " + std::to_string(res.status());
              ++r.wrong;
            } else {
              ++r.ok;
            }
          }
          co_return r;
        },
        asio::use_future));
  }

  std::size_t ok = 0, errors = 0, wrong = 0, completed = 0;
  std::vector<std::uint32_t> latencies;
  latencies.reserve(opt.workers * opt.requests);
  std::string first_error;
  for (auto& f : futures) {
    try {
      task_result r = f.get();
      ok += r.ok;
      errors += r.errors;
      wrong += r.wrong;
      completed += r.ok + r.errors + r.wrong;
      latencies.insert(latencies.end(), r.latency_us.begin(), r.latency_us.end());
      if (first_error.empty()) first_error = r.first_error;
    } catch (const std::exception& e) {
      ++errors;
      if (first_error.empty()) first_error = e.what();
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto stats = pool->stats();
  pool.reset();  // drains and joins every worker

  const std::size_t expected = opt.workers * opt.requests;
  const std::size_t lost = expected - std::min(expected, completed);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) -> std::uint32_t {
    if (latencies.empty()) return 0;
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };

  std::printf("sentinel %s thread-safety demo\n", sentinel::version_string);
  std::printf("  target       %s%s\n", base.c_str(), server ? " (built-in local server)" : "");
  std::printf("  workers      %zu\n", opt.workers);
  std::printf("  requests     %zu (%zu per worker)\n", expected, opt.requests);
  std::printf("  successes    %zu\n", ok);
  std::printf("  errors       %zu%s%s\n", errors + wrong,
              first_error.empty() ? "" : "  first: ", first_error.c_str());
  std::printf("  lost         %zu\n", lost);
  std::printf("  duration     %.3f s\n", seconds);
  std::printf("  throughput   %.0f req/s\n", static_cast<double>(completed) / seconds);
  std::printf("  latency      p50 %u us, p99 %u us\n", pct(0.50), pct(0.99));
  std::printf("  connections  %llu opened, %llu reused\n",
              static_cast<unsigned long long>(stats.total.connections_opened),
              static_cast<unsigned long long>(stats.total.connections_reused));
  std::printf("  peak RSS     %.1f MiB (%.1f MiB before the pool)\n",
              static_cast<double>(peak_rss_kib()) / 1024.0, static_cast<double>(rss_before) / 1024.0);
  const bool success = errors == 0 && wrong == 0 && lost == 0 && ok == expected;
  std::printf("  result       %s\n", success ? "OK" : "FAILED");
  return success ? 0 : 1;
}
