// Question: what does one request cost the calling thread inside http_client, once warm: heap
// allocations, CPU microseconds and wall nanoseconds per request?
//
// NOT the in-memory transport that docs/design.md asks for: the library has no transport seam yet, so the
// peer is bench::mini_server, a tiny Asio server on its own thread in this process that answers every
// request with the same pre-built 52-byte reply (13-byte body). The kernel's loopback TCP is therefore in
// the numbers: wall ns and CPU us include send/recv syscalls, and the client thread's CPU includes its
// share of loopback softirq. Allocation counts are exact and transport-independent: only the client
// thread is counted (a thread_local switch in the replaced operator new), and the caller's own copy of the
// request is excluded (counted separately as "request copy").
//
// Modes: (a) sequential: one request at a time, the next one started from the previous completion
// callback; (b) 64 in flight: 64 such chains at once over up to 64 pooled connections. Each mode warms up
// with 10,000 requests, then measures 3 repetitions; the summary shows medians.
//
// Peer: the same exchanges with bare Asio callbacks (same request bytes, same server, interleaved with
// sentinel's repetitions): the ratio says what the library adds to what loopback TCP and Asio cost anyway.
// A second bare variant, "wait+read", reads the way sentinel's connection does (async_wait for
// readability, then a non-blocking read), to show what that reading strategy costs by itself.
// Options: --mode sequential|64_in_flight, --no-raw (sentinel only: for strace/perf), --trace N (stacks of
// the first N allocations of one warm sequential request).
#include <sentinel/http_client.hpp>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "mini_server.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace {

struct phase_result {
  std::size_t requests = 0;
  double wall_ns_per_req = 0;
  double cpu_us_per_req = 0;
  double allocs_per_req = 0;
  double frees_per_req = 0;
  double bytes_per_req = 0;
  std::uint64_t errors = 0;
};

// Keeps `depth` requests in flight until `total` have been started; every completion starts the next one.
class driver {
 public:
  driver(asio::io_context& ctx, sentinel::http_client& client, const sentinel::request& proto)
      : ctx_(ctx), client_(client), proto_(proto) {}

  phase_result run(std::size_t total, std::size_t depth) {
    remaining_ = total;
    in_flight_ = 0;
    errors_ = 0;
    ctx_.restart();
    auto guard = asio::make_work_guard(ctx_);  // stop() ends the phase, not a momentarily empty queue
    const auto a0 = bench::alloc::this_thread();
    const double cpu0 = bench::thread_cpu_us();
    const auto t0 = bench::clock::now();
    for (std::size_t i = 0; i < depth && remaining_ > 0; ++i)
      start_one();
    ctx_.run();
    const double wall = bench::seconds_since(t0);
    const double cpu = bench::thread_cpu_us() - cpu0;
    const auto a1 = bench::alloc::this_thread();
    phase_result r;
    r.requests = total;
    const double n = static_cast<double>(total);
    r.wall_ns_per_req = wall * 1e9 / n;
    r.cpu_us_per_req = cpu / n;
    r.allocs_per_req = static_cast<double>(a1.allocations - a0.allocations - excluded_.allocations) / n;
    r.frees_per_req = static_cast<double>(a1.deallocations - a0.deallocations - excluded_.deallocations) / n;
    r.bytes_per_req = static_cast<double>(a1.bytes - a0.bytes - excluded_.bytes) / n;
    r.errors = errors_;
    excluded_ = {};
    return r;
  }

 private:
  void start_one() {
    --remaining_;
    ++in_flight_;
    // The caller's copy of the request is the caller's cost, not the library's: measured, then excluded.
    const auto before = bench::alloc::this_thread();
    sentinel::request req = proto_;
    const auto after = bench::alloc::this_thread();
    excluded_.allocations += after.allocations - before.allocations;
    excluded_.bytes += after.bytes - before.bytes;
    // ...and so is its destruction: the library moves it into the operation and frees it there, which
    // shows up as the library's frees. Allocations are what the summary is about.
    client_.async_send(std::move(req), [this](std::error_code ec, sentinel::response res) {
      if (ec || res.status() != 200 || res.body().size() != 13) {
        if (errors_++ == 0)
          std::fprintf(stderr, "request failed: %s (status %d, %zu body bytes)\n", ec.message().c_str(),
                       res.status(), res.body().size());
      }
      --in_flight_;
      if (remaining_ > 0) {
        start_one();
      } else if (in_flight_ == 0) {
        ctx_.stop();
      }
    });
  }

  asio::io_context& ctx_;
  sentinel::http_client& client_;
  const sentinel::request& proto_;
  std::size_t remaining_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t errors_ = 0;
  bench::alloc::counts excluded_;
};

// The floor: the same exchanges with bare Asio callbacks over the same server, no HTTP library: write the
// request bytes, read until the whole 52-byte reply is in. What loopback TCP and Asio cost by themselves.
class raw_driver {
 public:
  // wait_then_read: wait for readability (async_wait), then read without blocking: the way sentinel's
  // connection reads (it lends its read buffer only while not suspended), to see what that costs alone.
  raw_driver(asio::io_context& ctx, unsigned short port, std::string request, std::size_t reply_size,
             bool wait_then_read)
      : ctx_(ctx),
        port_(port),
        request_(std::move(request)),
        reply_size_(reply_size),
        wait_then_read_(wait_then_read) {}

  phase_result run(std::size_t total, std::size_t depth) {
    while (conns_.size() < depth) {
      // async_connect, as sentinel does (it leaves EPOLLOUT registered on the descriptor).
      auto c = std::make_unique<conn>(ctx_);
      std::error_code cec = asio::error::would_block;
      c->sock.async_connect({asio::ip::make_address_v4("127.0.0.1"), port_},
                            [&](std::error_code e) { cec = e; });
      ctx_.restart();
      while (cec == asio::error::would_block && ctx_.run_one() > 0) {
      }
      if (cec) throw std::system_error(cec, "raw connect");
      c->sock.set_option(asio::ip::tcp::no_delay(true));
      c->sock.non_blocking(true);
      conns_.push_back(std::move(c));
    }
    remaining_ = total;
    in_flight_ = 0;
    errors_ = 0;
    ctx_.restart();
    auto guard = asio::make_work_guard(ctx_);
    const auto a0 = bench::alloc::this_thread();
    const double cpu0 = bench::thread_cpu_us();
    const auto t0 = bench::clock::now();
    for (std::size_t i = 0; i < depth && remaining_ > 0; ++i)
      start_one(*conns_[i]);
    ctx_.run();
    const double wall = bench::seconds_since(t0);
    const double cpu = bench::thread_cpu_us() - cpu0;
    const auto a1 = bench::alloc::this_thread();
    phase_result r;
    r.requests = total;
    const double n = static_cast<double>(total);
    r.wall_ns_per_req = wall * 1e9 / n;
    r.cpu_us_per_req = cpu / n;
    r.allocs_per_req = static_cast<double>(a1.allocations - a0.allocations) / n;
    r.frees_per_req = static_cast<double>(a1.deallocations - a0.deallocations) / n;
    r.bytes_per_req = static_cast<double>(a1.bytes - a0.bytes) / n;
    r.errors = errors_;
    return r;
  }

 private:
  struct conn {
    explicit conn(asio::io_context& ctx) : sock(ctx) {}
    asio::ip::tcp::socket sock;
    std::array<char, 4096> buf;
    std::size_t got = 0;
  };

  void start_one(conn& c) {
    --remaining_;
    ++in_flight_;
    c.got = 0;
    asio::async_write(c.sock, asio::buffer(request_), [this, &c](std::error_code ec, std::size_t) {
      if (ec) return fail(c, ec);
      read_more(c);
    });
  }

  void read_more(conn& c) {
    if (wait_then_read_) {
      c.sock.async_wait(asio::ip::tcp::socket::wait_read, [this, &c](std::error_code ec) {
        if (ec) return fail(c, ec);
        const std::size_t n = c.sock.read_some(asio::buffer(c.buf.data() + c.got, c.buf.size() - c.got), ec);
        if (ec == asio::error::would_block) return read_more(c);
        if (ec) return fail(c, ec);
        got(c, n);
      });
      return;
    }
    c.sock.async_read_some(asio::buffer(c.buf.data() + c.got, c.buf.size() - c.got),
                           [this, &c](std::error_code ec, std::size_t n) {
                             if (ec) return fail(c, ec);
                             got(c, n);
                           });
  }

  void got(conn& c, std::size_t n) {
    c.got += n;
    if (c.got < reply_size_) return read_more(c);
    if (c.got != reply_size_) ++errors_;
    done();
    if (remaining_ > 0) start_one(c);
  }

  void fail(conn&, std::error_code ec) {
    if (errors_++ == 0) std::fprintf(stderr, "raw request failed: %s\n", ec.message().c_str());
    done();
  }

  void done() {
    --in_flight_;
    if (remaining_ == 0 && in_flight_ == 0) ctx_.stop();
  }

  asio::io_context& ctx_;
  unsigned short port_;
  std::string request_;
  std::size_t reply_size_;
  bool wait_then_read_;
  std::vector<std::unique_ptr<conn>> conns_;
  std::size_t remaining_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t errors_ = 0;
};

void print_row(const char* mode, const char* what, const phase_result& r) {
  std::printf("%-14s %-18s %9zu %11.0f %10.2f %10.2f %10.2f %10.0f %6llu\n", mode, what, r.requests,
              r.wall_ns_per_req, r.cpu_us_per_req, r.allocs_per_req, r.frees_per_req, r.bytes_per_req,
              static_cast<unsigned long long>(r.errors));
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = bench::parse_common_args(argc, argv, "request_overhead.json");
  std::size_t trace = 0;
  std::string only;  // --mode sequential|64_in_flight (for profiling one mode)
  bool with_raw = true;
  for (const auto& a : args.rest)
    if (a == "--no-raw") with_raw = false;  // sentinel only (for strace/perf of the client thread)
  for (std::size_t i = 0; i + 1 < args.rest.size(); ++i) {
    if (args.rest[i] == "--trace") trace = std::stoul(args.rest[i + 1]);
    if (args.rest[i] == "--mode") only = args.rest[i + 1];
  }
  bench::watchdog(240, "request_overhead");

  const std::size_t warmup = args.quick ? 1000 : 10000;
  const std::size_t measured_seq = args.quick ? 2000 : 20000;
  const std::size_t measured_par = args.quick ? 5000 : 50000;
  const int reps = args.quick ? 1 : 3;

  bench::mini_server server;
  asio::io_context ctx{1};
  sentinel::client_options opts;
  opts.pool.max_per_origin = 64;
  sentinel::http_client client(ctx, opts);
  const sentinel::request proto("GET", server.url("/hello"));
  driver d(ctx, client, proto);

  // What the caller's request copy costs (excluded from the figures below).
  bench::alloc::count_this_thread(true);
  const auto c0 = bench::alloc::this_thread();
  for (int i = 0; i < 1000; ++i) {
    sentinel::request copy = proto;
    bench::keep(copy);
  }
  const auto c1 = bench::alloc::this_thread();
  const double copy_allocs = static_cast<double>(c1.allocations - c0.allocations) / 1000.0;

  struct mode {
    const char* name = "";
    std::size_t depth = 1;
    std::size_t measured = 0;
    std::vector<phase_result> reps, raw_reps, wait_reps;
    std::vector<double> cpu_ratio, wall_ratio;
  };
  std::vector<mode> modes;
  auto add_mode = [&](const char* name, std::size_t depth, std::size_t measured) {
    mode m;
    m.name = name;
    m.depth = depth;
    m.measured = measured;
    modes.push_back(std::move(m));
  };
  if (only.empty() || only == "sequential") add_mode("sequential", 1, measured_seq);
  if (only.empty() || only == "64_in_flight") add_mode("64_in_flight", 64, measured_par);

  // The floor sends exactly the bytes sentinel sends.
  const std::string raw_request = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                                  "\r\nUser-Agent: " + opts.user_agent + "\r\n\r\n";
  raw_driver raw(ctx, server.port(), raw_request, bench::hello_response().size(), false);
  raw_driver raw_wait(ctx, server.port(), raw_request, bench::hello_response().size(), true);

  std::printf("request_overhead: http_client against an in-process loopback server (NOT in-memory yet)\n");
  std::printf("%-14s %-18s %9s %11s %10s %10s %10s %10s %6s\n", "mode", "phase", "requests", "wall_ns/req",
              "cpu_us/req", "allocs/req", "frees/req", "bytes/req", "errors");
  std::uint64_t errors = 0;
  for (auto& m : modes) {
    const auto w = d.run(warmup, m.depth);
    print_row(m.name, "sentinel warm-up", w);
    const auto rw = with_raw ? raw.run(warmup, m.depth) : phase_result{};
    if (with_raw) print_row(m.name, "raw asio warm-up", rw);
    const auto ww = with_raw ? raw_wait.run(warmup, m.depth) : phase_result{};
    if (with_raw) print_row(m.name, "raw wait+read w-up", ww);
    errors += w.errors + rw.errors;
    for (int r = 0; r < reps; ++r) {
      // Interleaved, so that both see the same machine.
      m.reps.push_back(d.run(m.measured, m.depth));
      print_row(m.name, ("sentinel rep " + std::to_string(r + 1)).c_str(), m.reps.back());
      errors += m.reps.back().errors;
      if (!with_raw) continue;
      m.raw_reps.push_back(raw.run(m.measured, m.depth));
      print_row(m.name, ("raw asio rep " + std::to_string(r + 1)).c_str(), m.raw_reps.back());
      errors += m.raw_reps.back().errors;
      m.wait_reps.push_back(raw_wait.run(m.measured, m.depth));
      print_row(m.name, ("raw wait+read rep " + std::to_string(r + 1)).c_str(), m.wait_reps.back());
      errors += m.wait_reps.back().errors;
      m.cpu_ratio.push_back(m.reps.back().cpu_us_per_req / m.raw_reps.back().cpu_us_per_req);
      m.wall_ratio.push_back(m.reps.back().wall_ns_per_req / m.raw_reps.back().wall_ns_per_req);
    }
  }

  if (trace > 0) {
    // Where the allocations of one warm sequential request come from.
    d.run(100, 1);
    bench::alloc::trace_next(trace);
    d.run(1, 1);
    std::printf("\nallocation traces of one warm sequential request (first %zu):\n%s", trace,
                bench::alloc::take_traces().c_str());
  }
  bench::alloc::count_this_thread(false);

  const auto st = client.stats();
  auto med = [](const std::vector<phase_result>& v, double phase_result::*f) {
    std::vector<double> x;
    for (const auto& r : v)
      x.push_back(r.*f);
    return bench::median(x);
  };

  bench::json j;
  j.begin_object();
  bench::json_header(
      j, "request_overhead",
      "allocations, client-thread CPU and wall time per request of http_client, warm, against an "
      "in-process loopback server (not an in-memory transport yet); peer: the same exchanges with "
      "bare asio callbacks");
  j.str("transport", "loopback TCP to an in-process asio server thread (bench/common/mini_server)");
  j.num("warmup_requests", static_cast<std::uint64_t>(warmup));
  j.num("request_copy_allocs_excluded", copy_allocs);
  j.begin_object("modes");
  for (const auto& m : modes) {
    j.begin_object(m.name);
    j.num("in_flight", static_cast<std::uint64_t>(m.depth));
    j.num("requests_per_rep", static_cast<std::uint64_t>(m.measured));
    for (const auto* side : {&m.reps, &m.raw_reps, &m.wait_reps}) {
      j.begin_object(side == &m.reps       ? "sentinel"
                     : side == &m.raw_reps ? "raw_asio"
                                           : "raw_asio_wait_then_read");
      j.num("median_wall_ns_per_req", med(*side, &phase_result::wall_ns_per_req));
      j.num("median_cpu_us_per_req", med(*side, &phase_result::cpu_us_per_req));
      j.num("median_allocs_per_req", med(*side, &phase_result::allocs_per_req));
      j.num("median_frees_per_req", med(*side, &phase_result::frees_per_req));
      j.num("median_bytes_per_req", med(*side, &phase_result::bytes_per_req));
      j.begin_array("reps");
      for (const auto& r : *side) {
        j.begin_object();
        j.num("wall_ns_per_req", r.wall_ns_per_req);
        j.num("cpu_us_per_req", r.cpu_us_per_req);
        j.num("allocs_per_req", r.allocs_per_req);
        j.num("bytes_per_req", r.bytes_per_req);
        j.num("errors", r.errors);
        j.end_object();
      }
      j.end_array();
      j.end_object();
    }
    j.num("median_cpu_ratio_sentinel_over_raw", bench::median(m.cpu_ratio));
    j.num("median_wall_ratio_sentinel_over_raw", bench::median(m.wall_ratio));
    j.end_object();
  }
  j.end_object();
  j.begin_object("client_stats");
  j.num("requests", st.requests);
  j.num("connections_opened", st.connections_opened);
  j.num("connections_reused", st.connections_reused);
  j.end_object();
  j.num("server_connections", server.connections());
  j.num("errors", errors);
  j.end_object();
  bench::write_file(args.json_path, j.text());

  std::printf(
      "\nsummary (medians of %d reps; ratio = sentinel / raw asio, per rep, then median; design target: 0 "
      "allocations per request)\n",
      reps);
  std::printf("%-14s %10s %9s | %8s %8s %6s | %9s %9s %6s\n", "mode", "allocs/req", "bytes/req", "cpu_us",
              "raw_us", "ratio", "wall_ns", "raw_ns", "ratio");
  for (const auto& m : modes)
    std::printf("%-14s %10.2f %9.0f | %8.2f %8.2f %6.2f | %9.0f %9.0f %6.2f | %11.2f\n", m.name,
                med(m.reps, &phase_result::allocs_per_req), med(m.reps, &phase_result::bytes_per_req),
                med(m.reps, &phase_result::cpu_us_per_req), med(m.raw_reps, &phase_result::cpu_us_per_req),
                bench::median(m.cpu_ratio), med(m.reps, &phase_result::wall_ns_per_req),
                med(m.raw_reps, &phase_result::wall_ns_per_req), bench::median(m.wall_ratio),
                med(m.wait_reps, &phase_result::cpu_us_per_req));
  std::printf(
      "(excluded: the caller's request copy, %.1f allocations; sentinel opened %llu connections for %llu "
      "requests)\n",
      copy_allocs, static_cast<unsigned long long>(st.connections_opened),
      static_cast<unsigned long long>(st.requests));
  return errors == 0 ? 0 : 1;
}
