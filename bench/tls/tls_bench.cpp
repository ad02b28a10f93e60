// Question: what does TLS cost sentinel's http_client, against the same nginx on loopback?
//   (1) keep-alive throughput: requests/s over HTTPS vs plain HTTP, one http_client (one thread, one
//       io_context), 32 requests in flight over up to 32 pooled connections;
//   (2) connection setup: new connections per second when every response closes its connection
//       (`Connection: close`), for plain TCP, TLS with session resumption (sentinel's default: a session
//       per origin, resumed by the next connection), and TLS with full handshakes only (the client's
//       session cache turned off on its SSL_CTX), each at 1 and at 32 connections in flight.
// Peer: nginx 1.22 from tests/support (one worker, no master, access_log off; TLS listener with
// ssl_session_cache shared:SSL:1m and session tickets; protocols TLSv1.2 TLSv1.3, so TLS 1.3 is used),
// certificate EC P-256 from certs(). The client verifies the chain (ca_file = test CA) and the IP SAN:
// verification is never off. nginx and the client share this machine's cores: the figures are
// client + server together, which is the point of a loopback comparison (same peer, same run).
//
// Each scenario runs `--seconds` (default 5) after a 0.5 s warm-up, 3 repetitions interleaved; the summary
// shows medians. CPU is the client thread's (getrusage RUSAGE_THREAD) per request.
#include <sentinel/http_client.hpp>

#include "bench_common.hpp"
#include "client/client_access.hpp"
#include "support/certs.hpp"
#include "support/nginx.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr asio::experimental::as_tuple_t<asio::use_awaitable_t<>> use_tuple{};

struct scenario {
  std::string name;
  std::string url;
  std::size_t in_flight;
  bool close_each;  // every request asks for Connection: close (so nginx closes after the response)
  bool resume;      // the client keeps sessions (the default); false: SSL_SESS_CACHE_OFF on its SSL_CTX
};

struct result {
  double seconds = 0;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  double cpu_us = 0;
  sentinel::client_stats stats;  // deltas over the measured phase
  double rps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  double cpu_per_req() const { return requests > 0 ? cpu_us / static_cast<double>(requests) : 0; }
};

sentinel::client_stats minus(sentinel::client_stats a, const sentinel::client_stats& b) {
  a.requests -= b.requests;
  a.errors -= b.errors;
  a.connections_opened -= b.connections_opened;
  a.connections_reused -= b.connections_reused;
  a.tls_handshakes -= b.tls_handshakes;
  a.tls_resumed -= b.tls_resumed;
  return a;
}

std::string first_error;  // for the summary: what went wrong, if anything did

asio::awaitable<void> loop(sentinel::http_client& client, const scenario& sc, bench::clock::time_point end,
                           std::uint64_t& ok, std::uint64_t& errors) {
  while (bench::clock::now() < end) {
    sentinel::headers fields;
    if (sc.close_each) fields.add("Connection", "close");
    sentinel::request req("GET", sc.url, std::move(fields));
    auto [ec, res] = co_await client.async_send(std::move(req), use_tuple);
    if (ec || res.status() != 200 || res.body() != "Hello, World!") {
      if (first_error.empty()) first_error = sc.name + ": " + (ec ? ec.message() : "status/body mismatch");
      ++errors;
    } else {
      ++ok;
    }
  }
}

// Runs `sc` for `seconds` on a fresh http_client (after a 0.5 s warm-up on the same client).
result run(const scenario& sc, double seconds) {
  asio::io_context ctx{1};
  sentinel::client_options o;
  o.tls.ca_file = sentinel::test::certs().ca.cert;
  o.pool.max_per_origin = sc.in_flight;
  o.pool.max_idle_per_origin = sc.in_flight;
  o.version =
      sentinel::http_version::http1_1;  // the figures below are HTTP/1.1's (HTTP/2 is offered by default)
  sentinel::http_client client(ctx, o);
  if (!sc.resume) {
    // Internal knob for the benchmark only: no session is ever stored, so every handshake is a full one.
    SSL_CTX_set_session_cache_mode(
        sentinel::detail::client_access::core(client).tls().native().native_handle(), SSL_SESS_CACHE_OFF);
  }
  auto phase = [&](double secs, result* out) {
    std::uint64_t ok = 0, errors = 0;
    const auto stats0 = client.stats();
    const double cpu0 = bench::thread_cpu_us();
    const auto t0 = bench::clock::now();
    const auto end =
        t0 + std::chrono::duration_cast<bench::clock::duration>(std::chrono::duration<double>(secs));
    for (std::size_t i = 0; i < sc.in_flight; ++i)
      asio::co_spawn(ctx, loop(client, sc, end, ok, errors), asio::detached);
    ctx.restart();
    ctx.run();  // returns when every loop is done and the last graceful TLS closes have finished
    if (out != nullptr) {
      out->seconds = bench::seconds_since(t0);
      out->cpu_us = bench::thread_cpu_us() - cpu0;
      out->requests = ok;
      out->errors = errors;
      out->stats = minus(client.stats(), stats0);
    }
  };
  phase(0.5, nullptr);
  result r;
  phase(seconds, &r);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = bench::parse_common_args(argc, argv, "tls.json");
  double seconds = args.quick ? 1.0 : 5.0;
  int reps = args.quick ? 1 : 3;
  std::string only;  // run only the scenarios whose name contains this (for profiling one of them)
  for (std::size_t i = 0; i + 1 < args.rest.size(); ++i) {
    if (args.rest[i] == "--seconds") seconds = std::atof(args.rest[i + 1].c_str());
    if (args.rest[i] == "--reps") reps = std::atoi(args.rest[i + 1].c_str());
    if (args.rest[i] == "--only") only = args.rest[i + 1];
  }
  if (!sentinel::test::nginx::available()) bench::skip(sentinel::test::nginx::unavailable_reason());
  std::unique_ptr<sentinel::test::nginx> ng;
  try {
    sentinel::test::certs();
    sentinel::test::nginx_options no;
    no.tls = true;
    no.keepalive_requests = 100000000;  // keep-alive runs never hit nginx's per-connection limit
    // nginx 1.22 offers TLS 1.2 only by default.
    no.extra_server_config = "ssl_protocols TLSv1.2 TLSv1.3;";
    ng = std::make_unique<sentinel::test::nginx>(no);
  } catch (const std::exception& e) {
    bench::skip(std::string("cannot start nginx with TLS: ") + e.what());
  }
  const std::string http = "http://127.0.0.1:" + std::to_string(ng->port()) + "/hello";
  const std::string https = "https://127.0.0.1:" + std::to_string(ng->tls_port()) + "/hello";

  std::vector<scenario> scenarios = {
      {"http_keepalive_c32", http, 32, false, true},
      {"https_keepalive_c32", https, 32, false, true},
      {"http_close_c1", http, 1, true, true},
      {"https_close_resumed_c1", https, 1, true, true},
      {"https_close_full_c1", https, 1, true, false},
      {"http_close_c32", http, 32, true, true},
      {"https_close_resumed_c32", https, 32, true, true},
      {"https_close_full_c32", https, 32, true, false},
  };
  if (!only.empty())
    std::erase_if(scenarios, [&](const scenario& sc) { return sc.name.find(only) == std::string::npos; });
  if (scenarios.empty()) {
    std::fprintf(stderr, "no scenario matches --only %s\n", only.c_str());
    return 2;
  }
  const unsigned budget = static_cast<unsigned>(scenarios.size() * reps * (seconds + 3) + 30);
  bench::watchdog(budget, "tls_bench");

  std::map<std::string, std::vector<result>> results;
  for (int rep = 0; rep < reps; ++rep) {
    for (const auto& sc : scenarios) {
      result r = run(sc, seconds);
      std::printf(
          "rep %d  %-24s %9.0f req/s  %6.1f us CPU/req  conns %6llu  handshakes %6llu  resumed %6llu  "
          "errors %llu\n",
          rep + 1, sc.name.c_str(), r.rps(), r.cpu_per_req(),
          static_cast<unsigned long long>(r.stats.connections_opened),
          static_cast<unsigned long long>(r.stats.tls_handshakes),
          static_cast<unsigned long long>(r.stats.tls_resumed), static_cast<unsigned long long>(r.errors));
      std::fflush(stdout);
      results[sc.name].push_back(r);
    }
  }
  bench::watchdog(0, "");

  auto med = [&](const std::string& name, auto f) {
    std::vector<double> v;
    for (const auto& r : results[name])
      v.push_back(f(r));
    return bench::median(v);
  };
  auto rps = [&](const std::string& name) { return med(name, [](const result& r) { return r.rps(); }); };
  auto cpu = [&](const std::string& name) {
    return med(name, [](const result& r) { return r.cpu_per_req(); });
  };

  bench::json j;
  j.begin_object();
  bench::json_header(
      j, "tls",
      "HTTPS vs HTTP through one http_client against nginx on loopback: keep-alive req/s at 32 in "
      "flight; new connections/s with Connection: close (TCP, TLS resumed, TLS full)");
  j.num("seconds_per_run", seconds).num("repetitions", reps);
  j.begin_array("scenarios");
  std::uint64_t errors = 0;
  for (const auto& sc : scenarios) {
    j.begin_object()
        .str("name", sc.name)
        .str("url", sc.url)
        .num("in_flight", static_cast<std::uint64_t>(sc.in_flight))
        .boolean("connection_close", sc.close_each)
        .boolean("client_session_cache", sc.resume)
        .num("median_rps", rps(sc.name))
        .num("median_client_cpu_us_per_req", cpu(sc.name));
    j.begin_array("runs");
    for (const auto& r : results[sc.name]) {
      errors += r.errors;
      j.begin_object()
          .num("seconds", r.seconds)
          .num("requests", r.requests)
          .num("errors", r.errors)
          .num("rps", r.rps())
          .num("client_cpu_us_per_req", r.cpu_per_req())
          .num("connections_opened", r.stats.connections_opened)
          .num("tls_handshakes", r.stats.tls_handshakes)
          .num("tls_resumed", r.stats.tls_resumed)
          .end_object();
    }
    j.end_array().end_object();
  }
  j.end_array();
  const bool all = only.empty();  // the ratios need every scenario
  if (all) {
    j.num("ratio_https_over_http_keepalive", rps("https_keepalive_c32") / rps("http_keepalive_c32"));
    j.num("ratio_resumed_over_full_c1", rps("https_close_resumed_c1") / rps("https_close_full_c1"));
    j.num("ratio_resumed_over_full_c32", rps("https_close_resumed_c32") / rps("https_close_full_c32"));
  }
  j.end_object();
  bench::write_file(args.json_path, j.text());

  std::printf("\nmedians of %d x %.1f s (client CPU per request in parentheses):\n", reps, seconds);
  for (const auto& sc : scenarios)
    std::printf("  %-24s %8.0f req/s  %7.1f us\n", sc.name.c_str(), rps(sc.name), cpu(sc.name));
  if (all) {
    std::printf(
        "  keep-alive, 32 in flight:   http %8.0f req/s (%.1f us)   https %8.0f req/s (%.1f us)   "
        "https/http %.2f\n",
        rps("http_keepalive_c32"), cpu("http_keepalive_c32"), rps("https_keepalive_c32"),
        cpu("https_keepalive_c32"), rps("https_keepalive_c32") / rps("http_keepalive_c32"));
    for (const char* c : {"c1", "c32"}) {
      const std::string s = c;
      std::printf(
          "  new connection each, %-4s tcp %8.0f/s (%.1f us)   tls resumed %7.0f/s (%.1f us)   tls full "
          "%7.0f/s (%.1f us)   resumed/full %.2f\n",
          c, rps("http_close_" + s), cpu("http_close_" + s), rps("https_close_resumed_" + s),
          cpu("https_close_resumed_" + s), rps("https_close_full_" + s), cpu("https_close_full_" + s),
          rps("https_close_resumed_" + s) / rps("https_close_full_" + s));
    }
  }
  if (errors > 0) {
    std::printf("ERRORS: %llu (first: %s)\n", static_cast<unsigned long long>(errors), first_error.c_str());
    return 1;
  }
  return 0;
}
