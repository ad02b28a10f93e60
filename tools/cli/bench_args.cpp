// sentinel CLI, bench mode: the command line, parsed with CLI11.
#include "bench.hpp"
#include "common.hpp"
#include "errors.hpp"

#include <sentinel/config.hpp>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <thread>

namespace sentinel::cli {
namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "sentinel bench: %s\nsentinel: try 'sentinel bench --help' for more information\n",
               message.c_str());
  return exit_code::usage;
}

}  // namespace

bench_parse_result parse_bench_args(int argc, char** argv) {
  bench_options o;
  const unsigned hw = std::thread::hardware_concurrency();
  o.workers = hw != 0 ? hw : 1;
  std::optional<double> duration, rate;
  double timeout = 10;
  std::optional<std::string> method;

  CLI::App app(
      "Load generation with sentinel's client_pool: each worker thread runs its share of the\n"
      "connections as request loops on its own client. Closed loop by default; with --rate, a\n"
      "constant request rate whose latency counts from each request's intended send time.",
      "sentinel bench");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.add_option("-w,--workers", o.workers, "Worker threads (default: hardware threads)")->type_name("N");
  app.add_option("-c,--connections", o.connections, "Concurrent connections in total (default 10)")
      ->type_name("N");
  auto* d = app.add_option("-d,--duration", duration, "Run for this long (default 10)")->type_name("SECONDS");
  auto* n = app.add_option("-n,--requests", o.requests, "Send this many requests in total")->type_name("N");
  d->excludes(n);
  app.add_option("--rate", rate, "Constant rate, requests per second over all connections")->type_name("R");
  app.add_option("-m,--method", method, "Request method (default GET, POST with --body)")
      ->type_name("METHOD");
  app.add_option("-H,--header", o.headers, "Extra header 'Name: value' (repeatable)")
      ->allow_extra_args(false)
      ->type_name("LINE");
  app.add_option("--body", o.body, "Request body, or @FILE")->type_name("DATA");
  app.add_option("--timeout", timeout, "Each request's total timeout (default 10, 0: none)")
      ->type_name("SECONDS");
  app.add_flag("--json", o.json, "Print the results as one JSON object");
  app.add_flag("-k,--insecure", o.insecure, "Accept any server certificate (DANGER)");
  app.add_option("--cacert", o.cacert, "Verify servers with these CA certificates (PEM)")->type_name("FILE");
  app.add_flag("--http2", o.http2,
               "HTTP/2: h2 by ALPN for https://, by prior knowledge (h2c) for http://, as h2load");
  app.add_option("--streams", o.streams,
                 "With --http2: requests in flight on each connection (default 1; h2load's -m)")
      ->type_name("N");
  app.add_option("url", o.url, "The URL to load")->required()->type_name("URL");
  app.footer(
      "Exit status: 0 when the run completed with at least one complete response, 1 when every "
      "request failed or the URL's scheme is not http or https (curl's 1), 2 for bad options, 3 for a "
      "malformed URL, 26 when --body @FILE cannot be read.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return {std::nullopt, exit_code::ok};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, usage_error(e.what())};
  }
  if (o.workers == 0) return {std::nullopt, usage_error("--workers must be at least 1")};
  if (o.connections == 0) return {std::nullopt, usage_error("--connections must be at least 1")};
  if (o.streams == 0) return {std::nullopt, usage_error("--streams must be at least 1")};
  if (o.streams > 1 && !o.http2) return {std::nullopt, usage_error("--streams needs --http2")};
  if (o.http2 && !sentinel::http2_built) return {std::nullopt, http2_not_built("sentinel bench")};
  if (o.requests && *o.requests == 0) return {std::nullopt, usage_error("--requests must be at least 1")};
  if (duration) {
    o.duration = parse_seconds(*duration);
    if (!o.duration || o.duration->count() == 0) return {std::nullopt, usage_error("bad --duration value")};
  } else if (!o.requests) {
    o.duration = std::chrono::seconds(10);
  }
  if (rate) {
    if (!std::isfinite(*rate) || *rate <= 0 || *rate > 1e9)
      return {std::nullopt, usage_error("bad --rate value")};
    o.rate = rate;
  }
  auto t = parse_seconds(timeout);
  if (!t) return {std::nullopt, usage_error("bad --timeout value")};
  o.timeout = *t;
  o.method = method ? *method : o.body ? "POST" : "GET";
  if (!is_token(o.method)) return {std::nullopt, usage_error("bad method '" + o.method + "' for -m")};
  for (const auto& h : o.headers) {
    auto parsed = parse_header_arg(h);
    if (!parsed || parsed->remove) return {std::nullopt, usage_error("bad header '" + h + "' for -H")};
  }
  if (o.body && o.body->size() > 1 && o.body->front() == '@') {
    const std::string path = o.body->substr(1);
    if (!read_whole_file(path, *o.body)) {
      std::fprintf(stderr, "sentinel bench: cannot read '%s': %s\n", path.c_str(), errno_text(errno).c_str());
      return {std::nullopt, exit_code::read_error};
    }
  }
  return {std::move(o), exit_code::ok};
}

}  // namespace sentinel::cli
