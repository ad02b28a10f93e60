// Question: how much memory does sentinel hold per idle worker, and per idle keep-alive connection?
//
//   worker:      RSS of a client_pool with 1000 idle workers (each has run one empty task, so its thread
//                has started), (RSS after - RSS before) / 1000.
//                Peer: a bare Asio worker (a thread running its own io_context{1} with a work guard), the
//                least a worker can be.
//   connection:  N = 10,000 keep-alive connections (N concurrent GETs with max_per_origin = N, then all
//                idle in the pool), (RSS after - RSS before) / N, with heap bytes in use (mallinfo2) as a
//                steadier second figure, and RSS again after malloc_trim(0) (what stays once glibc returns
//                free pages). Peer: N bare connected asio sockets, each of which did one request/response
//                with a 4 KiB stack buffer (the least a connection can be in user space).
//                Design target (docs/design.md): "an idle pooled connection holds a socket and a few hundred
//                bytes".
//   inflight:    N requests written and waiting for a reply that never comes (a server that reads and never
//                answers): (heap, RSS) per waiting request, i.e. what one request in flight costs. Peer: a
//                bare socket with the request written and an async_read_some pending into its own 4 KiB.
// The server is nginx when installed (else bench/common's minimal server), in its own process. Each
// measurement runs in a fresh process (fork + exec --child) so that one does not inherit another's heap;
// 3 runs each, medians. Needs RLIMIT_NOFILE >= N + 256 (the soft limit is raised to the hard one); the
// connection part is skipped, with the reason, when it is lower.
#include <sentinel/client_pool.hpp>
#include <sentinel/http_client.hpp>

#include "client/client_access.hpp"
#include "http1/connection.hpp"

#include "bench_common.hpp"
#include "mini_server.hpp"
#include "nginx_process.hpp"

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct sample {
  bool valid = false;
  double rss_per_item_kib = 0;          // (RSS after - before) / n
  double heap_per_item_bytes = 0;       // (heap in use after - before) / n
  double trimmed_rss_per_item_kib = 0;  // after malloc_trim(0)
  double peak_per_item_kib = 0;         // (VmHWM after - RSS before) / n: the transient high-water mark
  std::uint64_t n = 0;
  std::string note;
};

void print_result(const sample& s) {
  std::printf("RESULT n=%llu rss_kib=%.4f heap_b=%.2f trimmed_kib=%.4f peak_kib=%.4f\n",
              static_cast<unsigned long long>(s.n), s.rss_per_item_kib, s.heap_per_item_bytes,
              s.trimmed_rss_per_item_kib, s.peak_per_item_kib);
  std::fflush(stdout);
}

// Waits until RSS stops moving (threads finish starting, the kernel settles): two readings 200 ms apart
// within 0.5 %, at most 4 s.
void settle() {
  std::uint64_t last = bench::rss_kib();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(200ms);
    const std::uint64_t now = bench::rss_kib();
    const std::uint64_t diff = now > last ? now - last : last - now;
    if (diff * 200 <= last) return;
    last = now;
  }
}

// ---- children -------------------------------------------------------------------------------------------

int child_workers(bool sentinel_side, std::size_t n) {
  bench::watchdog(120, "memory: idle workers");
  const std::size_t threads0 = bench::thread_count();
  settle();
  const auto rss0 = bench::rss_kib();
  const auto heap0 = bench::heap_in_use_bytes();
  sample s;
  s.n = n;
  // Every worker first runs one empty task (so its thread has surely started and gone idle), then the
  // process settles, then we measure.
  std::atomic<std::size_t> ran{0};
  auto measure = [&] {
    for (int i = 0; i < 1000 && (ran.load() < n || bench::thread_count() < threads0 + n); ++i)
      std::this_thread::sleep_for(10ms);
    settle();
    s.rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
    s.peak_per_item_kib = static_cast<double>(bench::hwm_kib() - rss0) / static_cast<double>(n);
    s.heap_per_item_bytes = (static_cast<double>(bench::heap_in_use_bytes()) - static_cast<double>(heap0)) /
                            static_cast<double>(n);
    ::malloc_trim(0);
    s.trimmed_rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
  };
  if (sentinel_side) {
    sentinel::pool_options po;
    po.workers = n;
    sentinel::client_pool pool(po);
    for (std::size_t i = 0; i < n; ++i)  // round robin from one thread: one task per worker
      pool.async_run([](sentinel::worker&) -> asio::awaitable<void> { co_return; },
                     [&](std::exception_ptr) { ran.fetch_add(1); });
    measure();
    pool.stop();
  } else {
    struct bare {
      asio::io_context ctx{1};
      std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{
          asio::make_work_guard(ctx)};
      std::thread t;
    };
    std::vector<std::unique_ptr<bare>> workers;
    for (std::size_t i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<bare>());
      auto* w = workers.back().get();
      w->t = std::thread([w] { w->ctx.run(); });
      asio::post(w->ctx, [&] { ran.fetch_add(1); });
    }
    measure();
    for (auto& w : workers)
      w->work.reset();
    for (auto& w : workers)
      w->t.join();
  }
  print_result(s);
  return 0;
}

int child_connections(bool sentinel_side, std::size_t n, const std::string& url, unsigned short port) {
  bench::watchdog(150, "memory: idle connections");
  bench::raise_fd_limit();
  asio::io_context ctx{1};
  sample s;
  s.n = n;
  std::size_t ok = 0, failed = 0;
  std::string first_error;

  if (sentinel_side) {
    sentinel::client_options opts;
    opts.pool.max_per_origin = n;
    opts.timeouts.connect = 60s;
    opts.timeouts.pool_acquire = 60s;
    sentinel::http_client client(ctx, opts);
    const sentinel::request proto("GET", url);
    auto send = [&] {
      sentinel::request req = proto;
      client.async_send(std::move(req), [&](std::error_code ec, sentinel::response res) {
        if (!ec && res.status() == 200 && res.body() == "Hello, World!") {
          ++ok;
        } else {
          if (failed++ == 0) first_error = ec ? ec.message() : "status " + std::to_string(res.status());
        }
      });
    };
    // Warm: the client, its read buffer and one connection exist before the "before" figure.
    send();
    ctx.run();
    ctx.restart();
    settle();
    const auto rss0 = bench::rss_kib();
    const auto heap0 = bench::heap_in_use_bytes();
    ok = 0;
    for (std::size_t i = 0; i < n; ++i)
      send();
    ctx.run();
    ctx.restart();
    const auto st = client.stats();
    settle();
    s.rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
    s.peak_per_item_kib = static_cast<double>(bench::hwm_kib() - rss0) / static_cast<double>(n);
    s.heap_per_item_bytes = (static_cast<double>(bench::heap_in_use_bytes()) - static_cast<double>(heap0)) /
                            static_cast<double>(n);
    ::malloc_trim(0);
    s.trimmed_rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
    if (st.idle_connections < n) {
      std::fprintf(stderr, "only %llu of %zu connections idle in the pool (opened %llu)\n",
                   static_cast<unsigned long long>(st.idle_connections), n,
                   static_cast<unsigned long long>(st.connections_opened));
      failed += n - st.idle_connections;
    }
  } else {
    using asio::ip::tcp;
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
    const std::string req = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
    struct conn {
      explicit conn(asio::io_context& c) : sock(c) {}
      tcp::socket sock;
    };
    std::vector<std::unique_ptr<conn>> conns;
    conns.reserve(n + 1);
    // One exchange, synchronously: connect, write, read the reply into a stack buffer.
    auto exchange = [&](tcp::socket& sock) {
      std::error_code ec;
      sock.connect(ep, ec);
      if (!ec) asio::write(sock, asio::buffer(req), ec);
      char buf[4096];
      std::size_t got = 0;
      while (!ec && (got < 4 || std::string_view(buf, got).find("Hello, World!") == std::string_view::npos))
        got += sock.read_some(asio::buffer(buf + got, sizeof buf - got), ec);
      if (ec) {
        if (failed++ == 0) first_error = ec.message();
      } else {
        ++ok;
      }
    };
    conns.push_back(std::make_unique<conn>(ctx));
    exchange(conns.back()->sock);
    settle();
    const auto rss0 = bench::rss_kib();
    const auto heap0 = bench::heap_in_use_bytes();
    ok = 0;
    for (std::size_t i = 0; i < n; ++i) {
      conns.push_back(std::make_unique<conn>(ctx));
      exchange(conns.back()->sock);
    }
    settle();
    s.rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
    s.peak_per_item_kib = static_cast<double>(bench::hwm_kib() - rss0) / static_cast<double>(n);
    s.heap_per_item_bytes = (static_cast<double>(bench::heap_in_use_bytes()) - static_cast<double>(heap0)) /
                            static_cast<double>(n);
    ::malloc_trim(0);
    s.trimmed_rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
  }
  if (failed > 0 || ok != n) {
    std::fprintf(stderr, "%zu of %zu requests failed (first: %s)\n", failed, n, first_error.c_str());
    return 1;
  }
  print_result(s);
  return 0;
}

// N requests in flight at once against a server that never answers: (heap, RSS) per waiting request, with
// every connection open and every request written. What one request costs while it waits.
int child_inflight(bool sentinel_side, std::size_t n, unsigned short port) {
  bench::watchdog(150, "memory: requests in flight");
  bench::raise_fd_limit();
  asio::io_context ctx{1};
  sample s;
  s.n = n;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hello";
  const std::string raw = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
  settle();
  const auto rss0 = bench::rss_kib();
  const auto heap0 = bench::heap_in_use_bytes();
  std::size_t done_early = 0;
  auto finish = [&](auto&& ready) {
    const auto deadline = bench::clock::now() + 60s;
    while (!ready() && bench::clock::now() < deadline)
      ctx.run_for(20ms);
    if (!ready()) return false;
    s.rss_per_item_kib = static_cast<double>(bench::rss_kib() - rss0) / static_cast<double>(n);
    s.peak_per_item_kib = static_cast<double>(bench::hwm_kib() - rss0) / static_cast<double>(n);
    s.heap_per_item_bytes = (static_cast<double>(bench::heap_in_use_bytes()) - static_cast<double>(heap0)) /
                            static_cast<double>(n);
    s.trimmed_rss_per_item_kib = s.rss_per_item_kib;
    return true;
  };
  bool ok = false;
  if (sentinel_side) {
    sentinel::client_options opts;
    opts.pool.max_per_origin = n;
    opts.timeouts.connect = 60s;
    opts.timeouts.pool_acquire = 60s;
    sentinel::http_client client(ctx, opts);
    const sentinel::request proto("GET", url);
    for (std::size_t i = 0; i < n; ++i) {
      sentinel::request req = proto;
      client.async_send(std::move(req), [&](std::error_code, sentinel::response) { ++done_early; });
    }
    // Every connection open and every request written: bytes_sent stops moving once all n are out.
    std::uint64_t last_sent = 0;
    int stable = 0;
    ok = finish([&] {
      const auto st = client.stats();
      stable = st.open_connections == n && st.bytes_sent > 0 && st.bytes_sent == last_sent ? stable + 1 : 0;
      last_sent = st.bytes_sent;
      return stable >= 3;
    });
    client.shutdown();
    ctx.run_for(1s);
  } else {
    // The floor: a connected socket with the request written and a pending async_read_some into a 4 KiB
    // buffer of its own.
    using asio::ip::tcp;
    struct conn {
      explicit conn(asio::io_context& c) : sock(c) {}
      tcp::socket sock;
      char buf[4096];
    };
    std::vector<std::unique_ptr<conn>> conns;
    std::size_t waiting = 0;
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
    for (std::size_t i = 0; i < n; ++i) {
      conns.push_back(std::make_unique<conn>(ctx));
      auto* c = conns.back().get();
      c->sock.async_connect(ep, [&, c](std::error_code ec) {
        if (ec) return;
        asio::async_write(c->sock, asio::buffer(raw), [&, c](std::error_code ec2, std::size_t) {
          if (ec2) return;
          ++waiting;
          c->sock.async_read_some(asio::buffer(c->buf), [&](std::error_code, std::size_t) { ++done_early; });
        });
      });
    }
    ok = finish([&] { return waiting == n; });
    for (auto& c : conns)
      c->sock.close();
    ctx.run_for(1s);
  }
  if (!ok) {
    std::fprintf(stderr, "not every request was in flight within 60 s\n");
    return 1;
  }
  (void)done_early;
  print_result(s);
  return 0;
}

// ---- parent ---------------------------------------------------------------------------------------------

sample spawn_child(std::vector<std::string> args) {
  sample r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  args.insert(args.begin(), "memory");
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
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t k;
  while ((k = ::read(fds[0], buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(k));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  unsigned long long n = 0;
  const auto pos = out.find("RESULT ");
  if (pos != std::string::npos &&
      std::sscanf(out.c_str() + pos, "RESULT n=%llu rss_kib=%lf heap_b=%lf trimmed_kib=%lf peak_kib=%lf", &n,
                  &r.rss_per_item_kib, &r.heap_per_item_bytes, &r.trimmed_rss_per_item_kib,
                  &r.peak_per_item_kib) == 5) {
    r.n = n;
    r.valid = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!r.valid) std::fprintf(stderr, "child '%s ...' failed (status %d)\n", args[1].c_str(), status);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::strcmp(argv[1], "--child") == 0) {
    const std::string what = argv[2], side = argv[3];
    const std::size_t n = std::stoul(argv[4]);
    if (what == "workers") return child_workers(side == "sentinel", n);
    if (what == "inflight" && argc >= 6)
      return child_inflight(side == "sentinel", n, static_cast<unsigned short>(std::stoul(argv[5])));
    if (argc >= 7)
      return child_connections(side == "sentinel", n, argv[5],
                               static_cast<unsigned short>(std::stoul(argv[6])));
    return 2;
  }
  const auto args = bench::parse_common_args(argc, argv, "memory.json");
  bench::watchdog(290, "memory");
  std::size_t workers = args.quick ? 100 : 1000;
  std::size_t conns = args.quick ? 1000 : 10000;
  for (std::size_t i = 0; i + 1 < args.rest.size(); ++i) {
    if (args.rest[i] == "--workers") workers = std::stoul(args.rest[i + 1]);
    if (args.rest[i] == "--conns") conns = std::stoul(args.rest[i + 1]);
  }
  const int reps = args.quick ? 1 : 3;

  // fd limit (inherited by the children).
  const std::uint64_t fd_limit = bench::raise_fd_limit();
  std::string conn_skip;
  if (fd_limit < conns + 256)
    conn_skip = bench::format("RLIMIT_NOFILE hard limit is %llu; %zu connections need >= %zu",
                              static_cast<unsigned long long>(fd_limit), conns, conns + 256);

  // The server, in its own process (started while this process has one thread).
  std::unique_ptr<bench::nginx_process> nginx;
  std::unique_ptr<bench::mini_server_process> mini;
  std::string server_name, url;
  unsigned short port = 0;
  if (conn_skip.empty()) {
    if (!bench::nginx_process::binary().empty()) {
      try {
        nginx = std::make_unique<bench::nginx_process>(conns + 64);
        server_name = nginx->version();
        url = nginx->url("/hello");
        port = nginx->port();
      } catch (const std::exception& e) {
        std::printf("nginx did not start (%s); using the minimal server\n", e.what());
      }
    }
    if (!nginx) {
      mini = std::make_unique<bench::mini_server_process>();
      server_name = "bench/common mini_server (nginx not installed)";
      url = mini->url("/hello");
      port = mini->port();
    }
  }

  // A server that never answers, for the requests-in-flight figure.
  std::unique_ptr<bench::mini_server_process> silent;
  if (conn_skip.empty()) silent = std::make_unique<bench::mini_server_process>(std::string());

  struct row {
    std::string what, side;
    std::size_t n;
    std::vector<sample> reps;
  };
  std::vector<row> rows{{"workers", "sentinel", workers, {}}, {"workers", "bare_asio", workers, {}}};
  if (conn_skip.empty()) {
    rows.push_back({"connections", "sentinel", conns, {}});
    rows.push_back({"connections", "bare_asio", conns, {}});
    rows.push_back({"inflight", "sentinel", conns, {}});
    rows.push_back({"inflight", "bare_asio", conns, {}});
  }
  std::printf("memory: %zu idle workers; %s\n", workers,
              conn_skip.empty()
                  ? bench::format("%zu idle keep-alive connections to %s", conns, server_name.c_str()).c_str()
                  : ("connections SKIPPED: " + conn_skip).c_str());
  std::printf("%-12s %-10s %4s %8s %14s %16s %18s %14s\n", "what", "side", "rep", "n", "RSS KiB/item",
              "heap bytes/item", "trimmed KiB/item", "peak KiB/item");
  bool ok = true;
  for (int rep = 0; rep < reps; ++rep) {
    for (auto& r : rows) {
      std::vector<std::string> a{"--child", r.what, r.side == "sentinel" ? "sentinel" : "bare",
                                 std::to_string(r.n)};
      if (r.what == "connections") {
        a.push_back(url);
        a.push_back(std::to_string(port));
      } else if (r.what == "inflight") {
        a.push_back(std::to_string(silent->port()));
      }
      r.reps.push_back(spawn_child(a));
      const auto& s = r.reps.back();
      ok = ok && s.valid;
      std::printf("%-12s %-10s %4d %8zu %14.2f %16.0f %18.2f %14.2f%s\n", r.what.c_str(), r.side.c_str(),
                  rep + 1, r.n, s.rss_per_item_kib, s.heap_per_item_bytes, s.trimmed_rss_per_item_kib,
                  s.peak_per_item_kib, s.valid ? "" : "  INVALID");
    }
  }

  auto med = [](const std::vector<sample>& v, double sample::*f) {
    std::vector<double> x;
    for (const auto& s : v)
      if (s.valid) x.push_back(s.*f);
    return bench::median(x);
  };

  // What the per-item figures are made of: sizes of the objects involved (heap allocations they own are not
  // included: the connection's origin string, write buffer, parser field index, the pool's bookkeeping).
  struct size_row {
    const char* name;
    std::size_t bytes;
  };
  const std::vector<size_row> sizes{
      {"sentinel::detail::connection", sizeof(sentinel::detail::connection)},
      {"  http1::response_parser", sizeof(sentinel::http1::response_parser)},
      {"  detail::stream (tcp socket + tls ptr + device ptr)", sizeof(sentinel::detail::stream)},
      {"  detail::deadline_set (timer + deadlines)", sizeof(sentinel::detail::deadline_set)},
      {"  detail::response_reader", sizeof(sentinel::detail::response_reader)},
      {"  asio::steady_timer", sizeof(asio::steady_timer)},
      {"sentinel::detail::client_core", sizeof(sentinel::detail::client_core)},
      {"sentinel::worker", sizeof(sentinel::worker)},
      {"sentinel::response", sizeof(sentinel::response)},
      {"sentinel::request", sizeof(sentinel::request)},
      {"asio::ip::tcp::socket", sizeof(asio::ip::tcp::socket)},
  };

  bench::json j;
  j.begin_object();
  bench::json_header(
      j, "memory",
      "RSS per idle client_pool worker and per idle pooled keep-alive connection, vs bare asio "
      "(a thread + io_context; a connected socket)");
  j.str("server", server_name);
  j.str("connections_skipped", conn_skip);
  j.num("fd_limit", fd_limit);
  j.begin_array("results");
  std::printf("\nsummary (medians of %d runs; ratio = sentinel / bare asio)\n", reps);
  std::printf("%-12s %8s %13s %9s %6s %16s %14s %14s\n", "what", "n", "sentinel KiB", "bare KiB", "ratio",
              "sentinel heap B", "after trim KiB", "peak KiB/item");
  for (std::size_t i = 0; i + 1 < rows.size(); i += 2) {
    const auto& s = rows[i];
    const auto& b = rows[i + 1];
    const double sk = med(s.reps, &sample::rss_per_item_kib), bk = med(b.reps, &sample::rss_per_item_kib);
    // "after trim" only means something where freed memory is the question (connections).
    const std::string trimmed =
        s.what == "connections" ? bench::format("%.2f", med(s.reps, &sample::trimmed_rss_per_item_kib)) : "-";
    std::printf("%-12s %8zu %13.2f %9.2f %6.2f %16.0f %14s %14.2f\n", s.what.c_str(), s.n, sk, bk,
                bk > 0 ? sk / bk : 0.0, med(s.reps, &sample::heap_per_item_bytes), trimmed.c_str(),
                med(s.reps, &sample::peak_per_item_kib));
    for (const auto* r : {&s, &b}) {
      j.begin_object();
      j.str("what", r->what);
      j.str("side", r->side);
      j.num("n", static_cast<std::uint64_t>(r->n));
      j.num("median_rss_kib_per_item", med(r->reps, &sample::rss_per_item_kib));
      j.num("median_heap_bytes_per_item", med(r->reps, &sample::heap_per_item_bytes));
      j.num("median_trimmed_rss_kib_per_item", med(r->reps, &sample::trimmed_rss_per_item_kib));
      j.num("median_peak_kib_per_item", med(r->reps, &sample::peak_per_item_kib));
      j.begin_array("reps_rss_kib_per_item");
      for (const auto& x : r->reps)
        j.num("", x.rss_per_item_kib);
      j.end_array();
      j.end_object();
    }
  }
  j.end_array();
  j.begin_object("sizeof");
  for (const auto& z : sizes)
    j.num(z.name[0] == ' ' ? z.name + 2 : z.name, static_cast<std::uint64_t>(z.bytes));
  j.end_object();
  j.end_object();
  bench::write_file(args.json_path, j.text());
  std::printf("\nobject sizes (bytes, excluding what they own on the heap):\n");
  for (const auto& z : sizes)
    std::printf("  %-42s %6zu\n", z.name, z.bytes);
  if (!conn_skip.empty()) std::printf("connections: SKIPPED: %s\n", conn_skip.c_str());
  return ok ? 0 : 1;
}
