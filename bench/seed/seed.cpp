// Question: the seed's own scenario, 100 workers x 100 requests (10,000 GETs of a 13-byte body over
// keep-alive): how long does sentinel take, at what req/s, with what peak RSS?
//
// Peer: the Zig original's figures from issue 8 (~12 s, ~833 req/s, ~8 MB; not re-measured here), and, in
// the same run, two servers: bench/common's minimal server and nginx (if installed), each in its own
// process so that only the client's memory is counted.
//
// Two shapes of "100 workers", both with client_pool:
//   callers:  client_pool with 2 workers (this machine's cores); 100 coroutines on an outside thread each
//             send 100 requests one after another through pool.async_send (round robin over the workers).
//   workers:  client_pool with 100 workers (the seed's literal shape: a thread each); one async_run task
//             per worker sends its 100 requests on that worker's own http_client.
// Each run is a fresh process (fork + exec of this program with --child), so its peak RSS (VmHWM) is its
// own; 3 runs per (server, shape), medians.
#include <sentinel/client_pool.hpp>

#include "bench_common.hpp"
#include "mini_server.hpp"
#include "nginx_process.hpp"

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr int callers = 100;
constexpr int per_caller = 100;
constexpr double zig_seconds = 12.0, zig_rps = 833.0, zig_rss_mib = 8.0;

bool check(std::error_code ec, const sentinel::response& res) {
  return !ec && res.status() == 200 && res.body() == "Hello, World!";
}

// ---- the child: one run ---------------------------------------------------------------------------------

int child(const std::string& shape, const std::string& url) {
  bench::watchdog(60, "seed child");
  const auto start = bench::clock::now();
  std::atomic<std::uint64_t> ok{0}, errors{0};
  sentinel::pool_options po;
  po.workers = shape == "workers" ? callers : 2;
  po.client.pool.max_per_origin = callers;
  std::optional<sentinel::client_pool> pool(std::in_place, po);
  const sentinel::request proto("GET", url);
  asio::io_context home{1};

  const auto t0 = bench::clock::now();
  if (shape == "callers") {
    for (int c = 0; c < callers; ++c) {
      asio::co_spawn(
          home,
          [&]() -> asio::awaitable<void> {
            for (int i = 0; i < per_caller; ++i) {
              sentinel::request req = proto;
              auto [ec, res] = co_await pool->async_send(std::move(req),
                                                         asio::experimental::as_tuple(asio::use_awaitable));
              (check(ec, res) ? ok : errors).fetch_add(1, std::memory_order_relaxed);
            }
          },
          asio::detached);
    }
  } else {
    for (int c = 0; c < callers; ++c) {
      pool->async_run(
          [&](sentinel::worker& w) -> asio::awaitable<void> {
            for (int i = 0; i < per_caller; ++i) {
              sentinel::request req = proto;
              auto [ec, res] = co_await w.client().async_send(
                  std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
              (check(ec, res) ? ok : errors).fetch_add(1, std::memory_order_relaxed);
            }
          },
          asio::bind_executor(home, [&](std::exception_ptr e) {
            if (e) errors.fetch_add(1, std::memory_order_relaxed);
          }));
    }
  }
  home.run();
  const double wall = bench::seconds_since(t0);
  const auto st = pool->stats();
  pool.reset();  // stop and join every worker
  const double total = bench::seconds_since(start);
  std::printf("RESULT wall=%.6f total=%.6f ok=%llu errors=%llu hwm_kib=%llu conns=%llu threads=%zu\n", wall,
              total, static_cast<unsigned long long>(ok.load()),
              static_cast<unsigned long long>(errors.load()),
              static_cast<unsigned long long>(bench::hwm_kib()),
              static_cast<unsigned long long>(st.total.connections_opened), po.workers);
  return errors.load() == 0 && ok.load() == callers * per_caller ? 0 : 1;
}

// ---- the parent -----------------------------------------------------------------------------------------

struct run_result {
  bool valid = false;
  double wall = 0, total = 0;
  std::uint64_t ok = 0, errors = 0, hwm_kib = 0, conns = 0;
  double cpu_s = 0;  // the child's user + system time
};

run_result spawn_child(const std::string& shape, const std::string& url) {
  run_result r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  const std::string self = "/proc/self/exe";
  std::vector<std::string> args{"seed", "--child", shape, url};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(self.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  r.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  unsigned long long ok = 0, errors = 0, hwm = 0, conns = 0;
  std::size_t threads = 0;
  const auto pos = out.find("RESULT ");
  if (pos != std::string::npos &&
      std::sscanf(out.c_str() + pos,
                  "RESULT wall=%lf total=%lf ok=%llu errors=%llu hwm_kib=%llu conns=%llu threads=%zu",
                  &r.wall, &r.total, &ok, &errors, &hwm, &conns, &threads) == 7) {
    r.ok = ok;
    r.errors = errors;
    r.hwm_kib = hwm;
    r.conns = conns;
    r.valid = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!r.valid)
    std::fprintf(stderr, "child %s %s failed (status %d): %s\n", shape.c_str(), url.c_str(), status,
                 out.c_str());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "--child") == 0) return child(argv[2], argv[3]);
  const auto args = bench::parse_common_args(argc, argv, "seed.json");
  bench::watchdog(280, "seed");
  const int reps = args.quick ? 1 : 3;

  // Servers first, while this process has one thread (they fork).
  bench::mini_server_process mini;
  std::unique_ptr<bench::nginx_process> nginx;
  std::string nginx_note;
  if (bench::nginx_process::binary().empty()) {
    nginx_note = "nginx not installed: skipped";
  } else {
    try {
      nginx = std::make_unique<bench::nginx_process>(1024);
      nginx_note = nginx->version();
    } catch (const std::exception& e) {
      nginx_note = std::string("nginx failed to start: ") + e.what();
    }
  }

  struct target {
    std::string name, url;
  };
  std::vector<target> targets{{"mini_server", mini.url("/hello")}};
  if (nginx) targets.push_back({"nginx", nginx->url("/hello")});
  const std::vector<std::string> shapes{"callers", "workers"};

  std::map<std::pair<std::string, std::string>, std::vector<run_result>> runs;
  std::printf("seed: %d x %d GET /hello; each run a fresh process\n", callers, per_caller);
  std::printf("%-12s %-8s %4s %9s %9s %9s %10s %7s %6s\n", "server", "shape", "rep", "wall_s", "req/s",
              "cpu_s", "peak_KiB", "conns", "errors");
  bool all_valid = true;
  for (int rep = 0; rep < reps; ++rep) {
    for (const auto& t : targets) {
      for (const auto& s : shapes) {
        const auto r = spawn_child(s, t.url);
        runs[{t.name, s}].push_back(r);
        all_valid = all_valid && r.valid;
        std::printf("%-12s %-8s %4d %9.3f %9.0f %9.3f %10llu %7llu %6llu%s\n", t.name.c_str(), s.c_str(),
                    rep + 1, r.wall, r.wall > 0 ? 10000.0 / r.wall : 0.0, r.cpu_s,
                    static_cast<unsigned long long>(r.hwm_kib), static_cast<unsigned long long>(r.conns),
                    static_cast<unsigned long long>(r.errors), r.valid ? "" : "  INVALID");
      }
    }
  }
  if (!nginx) std::printf("(%s)\n", nginx_note.c_str());

  auto med = [](const std::vector<run_result>& v, auto get) {
    std::vector<double> x;
    for (const auto& r : v)
      if (r.valid) x.push_back(get(r));
    return bench::median(x);
  };

  bench::json j;
  j.begin_object();
  bench::json_header(
      j, "seed",
      "the seed's scenario (100 workers x 100 requests): wall time, req/s and peak RSS of sentinel, "
      "vs the Zig original's ~12 s / ~833 req/s / ~8 MB");
  j.num("requests", static_cast<std::uint64_t>(callers * per_caller));
  j.begin_object("zig_original");
  j.num("seconds", zig_seconds);
  j.num("rps", zig_rps);
  j.num("rss_mib", zig_rss_mib);
  j.end_object();
  j.str("nginx", nginx_note);
  j.begin_array("results");
  std::printf("\nsummary (medians of %d runs; x zig = req/s / 833, the Zig original's figure from issue 8)\n",
              reps);
  std::printf("%-12s %-8s %9s %9s %9s %11s %9s\n", "server", "shape", "wall_s", "req/s", "x zig", "peak_MiB",
              "cpu_s");
  for (const auto& t : targets) {
    for (const auto& s : shapes) {
      const auto& v = runs[{t.name, s}];
      const double wall = med(v, [](const run_result& r) { return r.wall; });
      const double rps = wall > 0 ? 10000.0 / wall : 0;
      const double hwm = med(v, [](const run_result& r) { return static_cast<double>(r.hwm_kib); });
      const double cpu = med(v, [](const run_result& r) { return r.cpu_s; });
      const double total = med(v, [](const run_result& r) { return r.total; });
      std::printf("%-12s %-8s %9.3f %9.0f %9.0f %11.1f %9.3f\n", t.name.c_str(), s.c_str(), wall, rps,
                  rps / zig_rps, hwm / 1024.0, cpu);
      j.begin_object();
      j.str("server", t.name);
      j.str("shape", s);
      j.num("median_wall_s", wall);
      j.num("median_total_s_incl_pool_start_stop", total);
      j.num("median_rps", rps);
      j.num("ratio_rps_to_zig", rps / zig_rps);
      j.num("median_peak_rss_kib", hwm);
      j.num("median_cpu_s", cpu);
      j.begin_array("runs");
      for (const auto& r : v) {
        j.begin_object();
        j.boolean("valid", r.valid);
        j.num("wall_s", r.wall);
        j.num("peak_rss_kib", r.hwm_kib);
        j.num("cpu_s", r.cpu_s);
        j.num("connections", r.conns);
        j.num("errors", r.errors);
        j.end_object();
      }
      j.end_array();
      j.end_object();
    }
  }
  j.end_array();
  j.end_object();
  bench::write_file(args.json_path, j.text());
  return all_valid ? 0 : 1;
}
