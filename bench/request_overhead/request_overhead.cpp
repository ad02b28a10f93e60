// Question: what does one request cost the calling thread inside http_client, once warm: heap
// allocations, CPU microseconds and wall nanoseconds per request?
//
// Two transports. (1) Loopback TCP: the peer is bench::mini_server, a tiny Asio server on its own thread in
// this process that answers every request with the same pre-built 52-byte reply (13-byte body); wall ns and
// CPU us include send/recv syscalls and the client thread's share of loopback softirq. (2) The in-memory
// transport (the transport seam's memory stream, tests/support/memory_responder.hpp): no kernel in the loop;
// a responder on the client's own thread answers, and its cost is in both sentinel's and the floor's figures.
// This is the figure the hot-path work is judged by. Allocation counts are exact and transport-independent:
// only the client thread is counted (a thread_local switch in the replaced malloc family, which sees operator
// new and Asio's aligned_alloc alike: tests/support/alloc_counter.hpp), and the caller's own copy of the
// request is excluded (counted separately as "request copy"). (The memory responder's own allocations, a few
// per connection at connect time, fall in the warm-up.) (3) client_pool over the in-memory transport
// (pool_driver.hpp): one worker, the caller's io_context on this thread; allocations counted on every thread,
// CPU the process's.
//
// Modes: (a) sequential: one request at a time, the next one started from the previous completion
// callback; (b) 64 in flight: 64 such chains at once over up to 64 pooled connections. Each mode warms up
// with 10,000 requests, then measures 3 repetitions; the summary shows medians.
//
// Peer: the same exchanges with bare Asio callbacks (same request bytes, same server, interleaved with
// sentinel's repetitions): the ratio says what the library adds to what loopback TCP and Asio cost anyway.
// A second bare variant, "wait+read", reads the way sentinel's connection does (async_wait for
// readability, then a non-blocking read), to show what that reading strategy costs by itself.
// Options: --mode sequential|64_in_flight, --transport loopback|memory|pool (default all), --no-raw (sentinel
// only: for strace/perf), --trace N (stacks of the first N allocations of one warm sequential request),
// --trace-reuse N (the same through async_send(req, res)).
//
// Reuse rows (tcp+reuse, mem+reuse): the same request sent again and again with async_send(req, res) into
// one response per chain (client_driver.hpp): no request copy to exclude, and the response's storage
// reused; no floor of their own (the rows above have it).
#include <sentinel/http_client.hpp>

#include "bench_common.hpp"
#include "client_driver.hpp"
#include "mini_server.hpp"
#include "pool_driver.hpp"
#include "support/alloc_counter.hpp"
#include "support/memory_responder.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace {

using bench::phase_result;

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
    const auto a0 = sentinel::test::alloc::this_thread();
    const double cpu0 = bench::thread_cpu_us();
    const auto t0 = bench::clock::now();
    for (std::size_t i = 0; i < depth && remaining_ > 0; ++i)
      start_one(*conns_[i]);
    ctx_.run();
    const double wall = bench::seconds_since(t0);
    const double cpu = bench::thread_cpu_us() - cpu0;
    return bench::per_request(total, wall, cpu, sentinel::test::alloc::this_thread() - a0, errors_);
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

// The in-memory floor: bare callbacks over memory pipes answered by the same responder as sentinel's
// in-memory connections (tests/support/memory_responder.hpp). Writes the request bytes, waits for
// readability, reads until the whole reply is in: the reading strategy sentinel uses, with no HTTP library.
class raw_memory_driver {
 public:
  raw_memory_driver(asio::io_context& ctx, std::string request, std::shared_ptr<const std::string> reply)
      : ctx_(ctx), request_(std::move(request)), reply_(std::move(reply)) {}

  phase_result run(std::size_t total, std::size_t depth) {
    while (conns_.size() < depth) {
      auto [mine, theirs] = sentinel::test::make_memory_pipe(ctx_.get_executor());
      std::make_shared<sentinel::test::memory_responder>(theirs, reply_)->start();
      conns_.push_back(std::make_unique<conn>(conn{mine, {}, 0}));
    }
    remaining_ = total;
    in_flight_ = 0;
    errors_ = 0;
    ctx_.restart();
    auto guard = asio::make_work_guard(ctx_);
    const auto a0 = sentinel::test::alloc::this_thread();
    const double cpu0 = bench::thread_cpu_us();
    const auto t0 = bench::clock::now();
    for (std::size_t i = 0; i < depth && remaining_ > 0; ++i)
      start_one(*conns_[i]);
    ctx_.run();
    const double wall = bench::seconds_since(t0);
    const double cpu = bench::thread_cpu_us() - cpu0;
    return bench::per_request(total, wall, cpu, sentinel::test::alloc::this_thread() - a0, errors_);
  }

 private:
  struct conn {
    sentinel::test::memory_stream s;
    std::array<char, 4096> buf;
    std::size_t got = 0;
  };

  void start_one(conn& c) {
    --remaining_;
    ++in_flight_;
    c.got = 0;
    std::error_code ec;
    c.s.write_some(asio::buffer(request_), ec);
    if (ec) return fail(ec);
    read_more(c);
  }

  void read_more(conn& c) {
    c.s.async_wait_readable([this, &c](std::error_code ec) {
      if (ec) return fail(ec);
      const std::size_t n = c.s.read_some(asio::buffer(c.buf.data() + c.got, c.buf.size() - c.got), ec);
      if (ec == asio::error::would_block) return read_more(c);
      if (ec) return fail(ec);
      c.got += n;
      if (c.got < reply_->size()) return read_more(c);
      if (c.got != reply_->size()) ++errors_;
      done();
      if (remaining_ > 0) start_one(c);
    });
  }

  void fail(std::error_code ec) {
    if (errors_++ == 0) std::fprintf(stderr, "raw memory request failed: %s\n", ec.message().c_str());
    done();
  }
  void done() {
    --in_flight_;
    if (remaining_ == 0 && in_flight_ == 0) ctx_.stop();
  }

  asio::io_context& ctx_;
  std::string request_;
  std::shared_ptr<const std::string> reply_;
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

struct mode {
  const char* name = "";
  std::size_t depth = 1;
  std::size_t measured = 0;
  std::vector<phase_result> reps, raw_reps, wait_reps;
  std::vector<double> cpu_ratio, wall_ratio;
};

using run_fn = std::function<phase_result(std::size_t total, std::size_t depth)>;

// One transport: sentinel and its floor(s), interleaved rep by rep so that both see the same machine.
std::uint64_t measure(const char* transport, std::vector<mode>& modes, std::size_t warmup, int reps,
                      const run_fn& sentinel_run, const run_fn& floor, const run_fn& floor_wait) {
  std::uint64_t errors = 0;
  for (auto& m : modes) {
    const std::string tag = std::string(transport) + " " + m.name;
    const auto w = sentinel_run(warmup, m.depth);
    print_row(tag.c_str(), "sentinel warm-up", w);
    errors += w.errors;
    if (floor) errors += floor(warmup, m.depth).errors;
    if (floor_wait) errors += floor_wait(warmup, m.depth).errors;
    for (int r = 0; r < reps; ++r) {
      m.reps.push_back(sentinel_run(m.measured, m.depth));
      print_row(tag.c_str(), ("sentinel rep " + std::to_string(r + 1)).c_str(), m.reps.back());
      errors += m.reps.back().errors;
      if (!floor) continue;
      m.raw_reps.push_back(floor(m.measured, m.depth));
      print_row(tag.c_str(), ("raw asio rep " + std::to_string(r + 1)).c_str(), m.raw_reps.back());
      errors += m.raw_reps.back().errors;
      if (floor_wait) {
        m.wait_reps.push_back(floor_wait(m.measured, m.depth));
        print_row(tag.c_str(), ("raw wait+read rep " + std::to_string(r + 1)).c_str(), m.wait_reps.back());
        errors += m.wait_reps.back().errors;
      }
      m.cpu_ratio.push_back(m.reps.back().cpu_us_per_req / m.raw_reps.back().cpu_us_per_req);
      m.wall_ratio.push_back(m.reps.back().wall_ns_per_req / m.raw_reps.back().wall_ns_per_req);
    }
  }
  return errors;
}

double med(const std::vector<phase_result>& v, double phase_result::*f) {
  std::vector<double> x;
  for (const auto& r : v)
    x.push_back(r.*f);
  return bench::median(x);
}

void json_modes(bench::json& j, const std::vector<mode>& modes) {
  for (const auto& m : modes) {
    j.begin_object(m.name);
    j.num("in_flight", static_cast<std::uint64_t>(m.depth));
    j.num("requests_per_rep", static_cast<std::uint64_t>(m.measured));
    for (const auto* side : {&m.reps, &m.raw_reps, &m.wait_reps}) {
      if (side->empty()) continue;
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
    if (!m.cpu_ratio.empty()) {
      j.num("median_cpu_ratio_sentinel_over_raw", bench::median(m.cpu_ratio));
      j.num("median_wall_ratio_sentinel_over_raw", bench::median(m.wall_ratio));
    }
    j.end_object();
  }
}

void print_summary(const char* transport, const std::vector<mode>& modes) {
  for (const auto& m : modes)
    std::printf("%-8s %-14s %10.2f %9.0f | %8.2f %8.2f %6.2f | %9.0f %9.0f %6.2f\n", transport, m.name,
                med(m.reps, &phase_result::allocs_per_req), med(m.reps, &phase_result::bytes_per_req),
                med(m.reps, &phase_result::cpu_us_per_req), med(m.raw_reps, &phase_result::cpu_us_per_req),
                bench::median(m.cpu_ratio), med(m.reps, &phase_result::wall_ns_per_req),
                med(m.raw_reps, &phase_result::wall_ns_per_req), bench::median(m.wall_ratio));
}

// Rows without a floor (reuse, pool).
void print_plain(const char* over, const std::vector<mode>& modes) {
  for (const auto& m : modes)
    std::printf("%-9s %-13s %10.2f %9.0f | %8.2f %8s %6s | %9.0f\n", over, m.name,
                med(m.reps, &phase_result::allocs_per_req), med(m.reps, &phase_result::bytes_per_req),
                med(m.reps, &phase_result::cpu_us_per_req), "-", "-",
                med(m.reps, &phase_result::wall_ns_per_req));
}

struct options {
  std::size_t trace = 0;
  bool reuse_trace = false;  // --trace-reuse N: trace async_send(req, res) instead
  std::string only;          // --mode sequential|64_in_flight
  std::string transport;     // --transport loopback|memory|pool (default: all)
  bool with_raw = true;      // --no-raw: sentinel only (for strace/perf of the client thread)
};

options parse_options(const std::vector<std::string>& rest) {
  options o;
  for (const auto& a : rest)
    if (a == "--no-raw") o.with_raw = false;
  for (std::size_t i = 0; i + 1 < rest.size(); ++i) {
    if (rest[i] == "--trace") o.trace = std::stoul(rest[i + 1]);
    if (rest[i] == "--trace-reuse") {
      o.trace = std::stoul(rest[i + 1]);
      o.reuse_trace = true;
    }
    if (rest[i] == "--mode") o.only = rest[i + 1];
    if (rest[i] == "--transport") o.transport = rest[i + 1];
  }
  return o;
}

std::vector<mode> make_modes(const options& o, bool quick) {
  std::vector<mode> modes;
  auto add = [&](const char* name, std::size_t depth, std::size_t measured) {
    mode m;
    m.name = name;
    m.depth = depth;
    m.measured = measured;
    modes.push_back(std::move(m));
  };
  if (o.only.empty() || o.only == "sequential") add("sequential", 1, quick ? 2000 : 20000);
  if (o.only.empty() || o.only == "64_in_flight") add("64_in_flight", 64, quick ? 5000 : 50000);
  return modes;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = bench::parse_common_args(argc, argv, "request_overhead.json");
  const options o = parse_options(args.rest);
  bench::watchdog(240, "request_overhead");
  const std::size_t warmup = args.quick ? 1000 : 10000;
  const int reps = args.quick ? 1 : 3;
  const bool loopback = o.transport.empty() || o.transport == "loopback";
  const bool memory = o.transport.empty() || o.transport == "memory";
  const bool pooled = o.transport.empty() || o.transport == "pool";

  bench::mini_server server;
  asio::io_context ctx{1};
  sentinel::client_options opts;
  opts.pool.max_per_origin = 64;
  sentinel::http_client client(ctx, opts);
  sentinel::http_client mem_client(ctx, opts);
  const auto reply = std::make_shared<const std::string>(bench::hello_response());
  sentinel::test::use_memory_transport(mem_client, reply);
  const sentinel::request proto("GET", server.url("/hello"));
  bench::client_driver d(ctx, client, proto, false), dm(ctx, mem_client, proto, false);
  bench::client_driver dr(ctx, client, proto, true), dmr(ctx, mem_client, proto, true);
  sentinel::pool_options popts;
  popts.workers = 1;
  popts.client = opts;
  sentinel::client_pool pool(popts);
  bench::pool_driver dp(ctx, pool, proto);
  dp.use_memory_transport(popts.workers, reply);

  // What the caller's request copy costs (excluded from the figures below).
  sentinel::test::alloc::count_this_thread(true);
  const auto c0 = sentinel::test::alloc::this_thread();
  for (int i = 0; i < 1000; ++i) {
    sentinel::request copy = proto;
    bench::keep(copy);
  }
  const auto c1 = sentinel::test::alloc::this_thread();
  const double copy_allocs = static_cast<double>(c1.allocations - c0.allocations) / 1000.0;

  // The floors send exactly the bytes sentinel sends.
  const std::string raw_request = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                                  "\r\nUser-Agent: " + opts.user_agent + "\r\n\r\n";
  raw_driver raw(ctx, server.port(), raw_request, bench::hello_response().size(), false);
  raw_driver raw_wait(ctx, server.port(), raw_request, bench::hello_response().size(), true);
  raw_memory_driver raw_mem(ctx, raw_request, reply);
  auto bind = [](auto& drv) {
    return run_fn([&drv](std::size_t t, std::size_t dd) { return drv.run(t, dd); });
  };

  std::printf(
      "request_overhead: http_client per request, over loopback TCP (in-process server) and over the\n"
      "in-memory transport (no kernel in the loop)\n");
  std::printf("%-14s %-18s %9s %11s %10s %10s %10s %10s %6s\n", "mode", "phase", "requests", "wall_ns/req",
              "cpu_us/req", "allocs/req", "frees/req", "bytes/req", "errors");
  std::vector<mode> tcp_modes = make_modes(o, args.quick), mem_modes = make_modes(o, args.quick),
                    pool_modes = make_modes(o, args.quick), tcp_reuse_modes = make_modes(o, args.quick),
                    mem_reuse_modes = make_modes(o, args.quick);
  std::uint64_t errors = 0;
  if (loopback)
    errors += measure("tcp", tcp_modes, warmup, reps, bind(d), o.with_raw ? bind(raw) : run_fn(),
                      o.with_raw ? bind(raw_wait) : run_fn());
  if (memory)
    errors += measure("memory", mem_modes, warmup, reps, bind(dm), o.with_raw ? bind(raw_mem) : run_fn(), {});
  // The same request sent again and again into one response per chain (async_send(req, res)).
  if (loopback) errors += measure("tcp+reuse", tcp_reuse_modes, warmup, reps, bind(dr), {}, {});
  if (memory) errors += measure("mem+reuse", mem_reuse_modes, warmup, reps, bind(dmr), {}, {});
  if (pooled) {
    sentinel::test::alloc::count_all_threads(true);
    errors += measure("pool", pool_modes, warmup, reps, bind(dp), {}, {});
    sentinel::test::alloc::count_all_threads(false);
  }

  if (o.trace > 0) {
    // Where the allocations of one warm sequential request come from.
    bench::client_driver& t = o.reuse_trace ? (memory ? dmr : dr) : (memory ? dm : d);
    t.run(100, 1);
    sentinel::test::alloc::trace_next(o.trace);
    t.run(1, 1);
    std::printf("\nallocation traces of one warm sequential request (first %zu):\n%s", o.trace,
                sentinel::test::alloc::take_traces().c_str());
  }
  sentinel::test::alloc::count_this_thread(false);

  bench::json j;
  j.begin_object();
  bench::json_header(
      j, "request_overhead",
      "allocations, client-thread CPU and wall time per request of http_client, warm, over loopback "
      "TCP to an in-process server and over the in-memory transport; peer: the same exchanges "
      "with bare asio callbacks over the same transport");
  j.num("warmup_requests", static_cast<std::uint64_t>(warmup));
  j.num("request_copy_allocs_excluded", copy_allocs);
  j.begin_object("modes");  // loopback TCP (the historical figures)
  if (loopback) json_modes(j, tcp_modes);
  j.end_object();
  j.begin_object("memory_modes");  // the in-memory transport: client and responder on one thread
  if (memory) json_modes(j, mem_modes);
  j.end_object();
  j.begin_object("pool_modes");  // client_pool, one worker, in-memory transport; every thread counted
  if (pooled) json_modes(j, pool_modes);
  j.end_object();
  j.begin_object("reuse_modes");  // loopback TCP, async_send(req, res): no request copy, response reused
  if (loopback) json_modes(j, tcp_reuse_modes);
  j.end_object();
  j.begin_object("memory_reuse_modes");  // the same over the in-memory transport
  if (memory) json_modes(j, mem_reuse_modes);
  j.end_object();
  j.num("server_connections", server.connections());
  j.num("errors", errors);
  j.end_object();
  bench::write_file(args.json_path, j.text());

  std::printf(
      "\nsummary (medians of %d reps; ratio = sentinel / raw asio over the same transport, per rep, then "
      "median; design target: 0 allocations per request)\n",
      reps);
  std::printf("%-8s %-14s %10s %9s | %8s %8s %6s | %9s %9s %6s\n", "over", "mode", "allocs/req", "bytes/req",
              "cpu_us", "raw_us", "ratio", "wall_ns", "raw_ns", "ratio");
  if (loopback) print_summary("tcp", tcp_modes);
  if (memory) print_summary("memory", mem_modes);
  if (loopback) print_plain("tcp+reuse", tcp_reuse_modes);
  if (memory) print_plain("mem+reuse", mem_reuse_modes);
  if (pooled) print_plain("pool", pool_modes);
  std::printf(
      "(excluded: the caller's request copy, %.1f allocations. Over memory, both sides include the\n"
      "responder's work on the same thread. pool: client_pool with one worker over memory; allocations of\n"
      "every thread, CPU of the process.)\n",
      copy_allocs);
  return errors == 0 ? 0 : 1;
}
