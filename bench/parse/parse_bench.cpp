// Question: how many ns does sentinel's http1::response_parser need for one complete response (head + a
// 13-byte body), compared with libhttp-parser (nodejs's classic C parser) on the same bytes?
//
// Fairness: both parse the whole message from one contiguous buffer and are reset for every iteration.
// sentinel's parser records a {name, value} view per field in a vector it keeps across responses; the
// http_parser callbacks do exactly that too (a reused std::vector of views), and nothing else. Both
// interpret the framing (Content-Length) and deliver the body bytes. Before timing, both results are
// checked to agree (status, field count, body length).
#include "wire/http1/parser.hpp"

#include <benchmark/benchmark.h>
#include <http_parser.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr std::string_view body = "Hello, World!";

std::string message(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string m = "HTTP/1.1 200 OK\r\n";
  for (const auto& [n, v] : fields)
    m += n + ": " + v + "\r\n";
  m += "\r\n";
  m += body;
  return m;
}

// ~3 fields: a minimal server.
std::string small_message() {
  return message({{"Content-Type", "text/plain"},
                  {"Content-Length", std::to_string(body.size())},
                  {"Connection", "keep-alive"}});
}

// ~12 fields: what nginx behind a CDN sends for a small JSON document.
std::string typical_message() {
  return message({{"Server", "nginx/1.22.1"},
                  {"Date", "Fri, 27 Nov 2026 10:00:00 GMT"},
                  {"Content-Type", "application/json; charset=utf-8"},
                  {"Content-Length", std::to_string(body.size())},
                  {"Connection", "keep-alive"},
                  {"Cache-Control", "public, max-age=300"},
                  {"ETag", "\"6571a2c3-d\""},
                  {"Last-Modified", "Thu, 26 Nov 2026 18:25:07 GMT"},
                  {"Vary", "Accept-Encoding"},
                  {"Accept-Ranges", "bytes"},
                  {"X-Cache", "HIT from edge-fra-03"},
                  {"Age", "127"},
                  {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}});
}

// ~40 fields, ~4 KiB: a large site's front page behind a CDN (cookies, CSP, reporting, tracing).
std::string large_message() {
  std::vector<std::pair<std::string, std::string>> f{
      {"Server", "cloudflare"},
      {"Date", "Fri, 27 Nov 2026 10:00:00 GMT"},
      {"Content-Type", "text/html; charset=utf-8"},
      {"Content-Length", std::to_string(body.size())},
      {"Connection", "keep-alive"},
      {"Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0"},
      {"Pragma", "no-cache"},
      {"Expires", "Thu, 01 Jan 1970 00:00:01 GMT"},
      {"Vary", "Accept-Encoding, Accept-Language, Cookie, User-Agent"},
      {"Content-Language", "en-US"},
      {"X-Frame-Options", "SAMEORIGIN"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-XSS-Protection", "0"},
      {"Referrer-Policy", "strict-origin-when-cross-origin"},
      {"Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"},
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self' 'nonce-r4nd0mN0nc3' https://www.googletagmanager.com "
       "https://www.google-analytics.com https://cdn.jsdelivr.net https://static.cloudflareinsights.com; "
       "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com https://cdn.jsdelivr.net; img-src "
       "'self' data: blob: https://*.googleusercontent.com https://www.google-analytics.com "
       "https://images.example-cdn.com; font-src 'self' https://fonts.gstatic.com data:; connect-src "
       "'self' https://api.example.com wss://realtime.example.com https://www.google-analytics.com "
       "https://sentry.io; frame-src https://www.youtube-nocookie.com https://player.vimeo.com; "
       "frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self' "
       "https://checkout.example.com; upgrade-insecure-requests; report-uri "
       "https://example.report-uri.com/r/d/csp/enforce; report-to csp-endpoint"},
      {"Permissions-Policy",
       "accelerometer=(), autoplay=(self), camera=(), display-capture=(), encrypted-media=(self), "
       "fullscreen=(self), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
       "payment=(self \"https://checkout.example.com\"), picture-in-picture=(self), "
       "publickey-credentials-get=(self), usb=(), interest-cohort=()"},
      {"Cross-Origin-Opener-Policy", "same-origin-allow-popups"},
      {"Cross-Origin-Resource-Policy", "same-site"},
      {"Report-To",
       "{\"group\":\"csp-endpoint\",\"max_age\":10886400,\"endpoints\":[{\"url\":"
       "\"https://example.report-uri.com/a/d/g\"}],\"include_subdomains\":true}, {\"group\":\"cf-nel\","
       "\"max_age\":604800,\"endpoints\":[{\"url\":\"https://a.nel.cloudflare.com/report/v3?s="
       "k8Zq2%2BvXb4sT1LrLw9mQeYpN0cF7uHjD3aS6gR5tW8xZ1yV2bN4mK7jH9gF3dS5aQ\"}]}"},
      {"NEL", "{\"success_fraction\":0.01,\"report_to\":\"cf-nel\",\"max_age\":604800}"},
      {"Set-Cookie",
       "__cf_bm=Hk2LmN8pQ4rS6tU0vW3xY5zA7bC9dE1fG2hI4jK6lM8nO0pQ2rS4tU6vW8xY0zA-1764237600-1.0.1.1-"
       "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789; path=/; expires=Fri, 27-Nov-26 10:30:00 GMT; "
       "domain=.example.com; HttpOnly; Secure; SameSite=None"},
      {"Set-Cookie",
       "session_id=s%3A9f8e7d6c5b4a3928170f1e2d3c4b5a69.Zx7Yw6Vu5Ts4Rq3Po2Nm1Lk0Jj9Ih8Gg7Ff6Ee5Dd4Cc; "
       "Path=/; Expires=Sat, 28 Nov 2026 10:00:00 GMT; HttpOnly; Secure; SameSite=Lax"},
      {"Set-Cookie",
       "csrftoken=Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c2V3b4N5m6; Path=/; Secure; SameSite=Strict"},
      {"Set-Cookie", "locale=en-US; Path=/; Max-Age=31536000; SameSite=Lax"},
      {"Set-Cookie",
       "_ab_test=variant-b%7Cexp-2026-11-homepage-hero%7C1764237600; Path=/; Max-Age=2592000; "
       "Domain=.example.com; SameSite=Lax"},
      {"Link",
       "</static/css/main.8c1f3e2a.css>; rel=preload; as=style, </static/js/runtime.4b2a9c1d.js>; "
       "rel=preload; as=script, </static/js/vendor.7e6d5c4b.js>; rel=preload; as=script, "
       "<https://fonts.gstatic.com>; rel=preconnect; crossorigin, <https://api.example.com>; "
       "rel=preconnect"},
      {"ETag", "W/\"3f2a-18c1b2d4e6f\""},
      {"Last-Modified", "Fri, 27 Nov 2026 09:58:12 GMT"},
      {"Accept-Ranges", "bytes"},
      {"Age", "0"},
      {"Via", "1.1 varnish (Varnish/7.2), 1.1 b4c2e8f1a3d5.cloudfront.net (CloudFront)"},
      {"X-Cache", "Miss from cloudfront"},
      {"X-Amz-Cf-Pop", "FRA56-P7"},
      {"X-Amz-Cf-Id", "q0Yx8ZJ4s1m_Kc3Lw9VbN2eR7tU5iO6pA4sD8fG1hJ3kL0zX2cV5bN=="},
      {"X-Request-Id", "5f0c7a2e-9b1d-4c3e-8f6a-2d4b6c8e0f1a"},
      {"X-Runtime", "0.084217"},
      {"Server-Timing", "cdn-cache;desc=MISS, edge;dur=12, origin;dur=84, db;dur=31.5, render;dur=40.2"},
      {"Alt-Svc", "h3=\":443\"; ma=86400, h3-29=\":443\"; ma=86400"},
      {"CF-Cache-Status", "DYNAMIC"},
      {"CF-RAY", "8e9f0a1b2c3d4e5f-FRA"},
      {"X-Powered-By", "Next.js"},
  };
  return message(f);
}

// ---- sentinel -------------------------------------------------------------------------------------------

struct sentinel_result {
  int status = 0;
  std::size_t fields = 0;
  std::size_t body_bytes = 0;
};

inline sentinel_result sentinel_parse(sentinel::http1::response_parser& p, char* data, std::size_t size) {
  p.reset();
  std::error_code ec;
  const std::size_t head = p.parse_head(data, size, ec);
  if (ec || head == 0) std::abort();
  sentinel_result r{p.head().status, p.head().fields.size(), 0};
  std::size_t pos = head;
  while (!p.done()) {
    std::string_view out;
    const std::size_t n = p.parse_body(data + pos, size - pos, out, ec);
    if (ec) std::abort();
    r.body_bytes += out.size();
    pos += n;
    if (n == 0 && out.empty()) break;
  }
  if (!p.done()) std::abort();
  return r;
}

// ---- http_parser ----------------------------------------------------------------------------------------

struct hp_state {
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // reused: capacity kept
  bool in_value = false;
  bool complete = false;
  std::size_t body_bytes = 0;
};

int hp_field(http_parser* p, const char* at, std::size_t n) {
  auto* s = static_cast<hp_state*>(p->data);
  if (s->in_value || s->fields.empty()) {
    s->fields.emplace_back(std::string_view(at, n), std::string_view());
    s->in_value = false;
  } else {  // continuation of the same name (only across buffer boundaries)
    auto& name = s->fields.back().first;
    name = std::string_view(name.data(), name.size() + n);
  }
  return 0;
}

int hp_value(http_parser* p, const char* at, std::size_t n) {
  auto* s = static_cast<hp_state*>(p->data);
  auto& v = s->fields.back().second;
  v = s->in_value ? std::string_view(v.data(), v.size() + n) : std::string_view(at, n);
  s->in_value = true;
  return 0;
}

int hp_body(http_parser* p, const char*, std::size_t n) {
  static_cast<hp_state*>(p->data)->body_bytes += n;
  return 0;
}

int hp_complete(http_parser* p) {
  static_cast<hp_state*>(p->data)->complete = true;
  return 0;
}

http_parser_settings make_settings() {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_header_field = hp_field;
  s.on_header_value = hp_value;
  s.on_body = hp_body;
  s.on_message_complete = hp_complete;
  return s;
}
const http_parser_settings hp_settings = make_settings();

inline sentinel_result hp_parse(http_parser& p, hp_state& s, const char* data, std::size_t size) {
  http_parser_init(&p, HTTP_RESPONSE);
  p.data = &s;
  s.fields.clear();
  s.in_value = false;
  s.complete = false;
  s.body_bytes = 0;
  const std::size_t n = http_parser_execute(&p, &hp_settings, data, size);
  if (n != size || p.http_errno != HPE_OK || !s.complete) std::abort();
  return {static_cast<int>(p.status_code), s.fields.size(), s.body_bytes};
}

// ---- benchmarks -----------------------------------------------------------------------------------------

struct sample {
  std::string name;
  std::string data;
};
std::vector<sample>& samples() {
  static std::vector<sample> s{
      {"small", small_message()}, {"typical", typical_message()}, {"large", large_message()}};
  return s;
}

void bm_sentinel(benchmark::State& state, const sample* s) {
  std::string buf = s->data;  // mutable: the parser may unfold obs-fold in place (none here)
  sentinel::http1::response_parser p;
  for (auto _ : state) {
    auto r = sentinel_parse(p, buf.data(), buf.size());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.counters["fields"] = static_cast<double>(p.head().fields.size());
}

void bm_http_parser(benchmark::State& state, const sample* s) {
  const std::string buf = s->data;
  http_parser p;
  hp_state st;
  for (auto _ : state) {
    auto r = hp_parse(p, st, buf.data(), buf.size());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
  state.counters["fields"] = static_cast<double>(st.fields.size());
}

// Collects ns/op per benchmark (the median aggregate when repeated) for the ratio summary.
class collecting_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      const bool repeated = r.repetitions > 1;
      const bool take = repeated ? (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")
                                 : r.run_type == Run::RT_Iteration;
      if (take) ns_[r.run_name.function_name] = r.GetAdjustedCPUTime();  // ns; CPU: robust to a busy machine
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  // Sanity: both parsers see the same message.
  for (const auto& s : samples()) {
    std::string a = s.data;
    sentinel::http1::response_parser sp;
    const auto r1 = sentinel_parse(sp, a.data(), a.size());
    http_parser hp;
    hp_state st;
    const auto r2 = hp_parse(hp, st, s.data.data(), s.data.size());
    if (r1.status != r2.status || r1.fields != r2.fields || r1.body_bytes != r2.body_bytes ||
        r1.body_bytes != body.size()) {
      std::fprintf(stderr, "parsers disagree on %s: sentinel %d/%zu/%zu, http_parser %d/%zu/%zu\n",
                   s.name.c_str(), r1.status, r1.fields, r1.body_bytes, r2.status, r2.fields, r2.body_bytes);
      return 1;
    }
    std::printf("message %-8s %5zu bytes, %2zu fields, %zu-byte body\n", s.name.c_str(), s.data.size(),
                r1.fields, r1.body_bytes);
  }

  for (const auto& s : samples()) {
    benchmark::RegisterBenchmark(("parse/" + s.name + "/sentinel").c_str(), bm_sentinel, &s);
    benchmark::RegisterBenchmark(("parse/" + s.name + "/http_parser").c_str(), bm_http_parser, &s);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  collecting_reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();

  std::printf(
      "\nsummary (CPU ns per response, median of repetitions; ratio = sentinel / http_parser, < 1 is "
      "faster)\n");
  std::printf("%-8s %7s %12s %14s %8s\n", "message", "bytes", "sentinel ns", "http_parser ns", "ratio");
  for (const auto& s : samples()) {
    const auto a = rep.ns_.find("parse/" + s.name + "/sentinel");
    const auto b = rep.ns_.find("parse/" + s.name + "/http_parser");
    if (a == rep.ns_.end() || b == rep.ns_.end()) continue;
    std::printf("%-8s %7zu %12.1f %14.1f %8.2f\n", s.name.c_str(), s.data.size(), a->second, b->second,
                a->second / b->second);
  }
  return 0;
}
