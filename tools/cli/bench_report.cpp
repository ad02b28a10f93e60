// sentinel CLI, bench mode: merging and printing the results.
#include "bench_report.hpp"

#include <nlohmann/json.hpp>

#include <cstdarg>
#include <cstdio>

namespace sentinel::cli {

void tally::add_response(int status_code, std::uint64_t latency_ns) {
  ++requests;
  ++responses;
  ++status[static_cast<std::size_t>(status_code) % status.size()];  // the parser allows 100..999 only
  latency.record(latency_ns);
}

void tally::add_error(const std::string& kind) {
  ++requests;
  ++errors;
  ++error_kinds[kind];
}

void tally::merge(const tally& other) {
  latency.merge(other.latency);
  requests += other.requests;
  responses += other.responses;
  errors += other.errors;
  for (std::size_t i = 0; i < status.size(); ++i)
    status[i] += other.status[i];
  for (const auto& [kind, n] : other.error_kinds)
    error_kinds[kind] += n;
}

namespace {

constexpr double percentiles[] = {50, 90, 99, 99.9};
constexpr const char* percentile_keys[] = {"p50", "p90", "p99", "p99_9"};
constexpr const char* percentile_labels[] = {"p50", "p90", "p99", "p99.9"};

double per_second(double n, double seconds) {
  return seconds > 0 ? n / seconds : 0.0;
}

std::uint64_t non_2xx_3xx(const tally& t) {
  std::uint64_t n = 0;
  for (std::size_t code = 0; code < t.status.size(); ++code)
    if (code < 200 || code >= 400) n += t.status[code];
  return n;
}

// 812ns, 51.20us, 12.34ms, 1.50s
std::string format_latency(std::uint64_t ns) {
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns < 1000)
    std::snprintf(buf, sizeof buf, "%lluns", static_cast<unsigned long long>(ns));
  else if (ns < 1000000)
    std::snprintf(buf, sizeof buf, "%.2fus", v / 1e3);
  else if (ns < 1000000000)
    std::snprintf(buf, sizeof buf, "%.2fms", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", v / 1e9);
  return buf;
}

std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes < 1024)
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  else if (bytes < 1024.0 * 1024)
    std::snprintf(buf, sizeof buf, "%.2f KiB", bytes / 1024);
  else if (bytes < 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.2f MiB", bytes / (1024.0 * 1024));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  return buf;
}

[[gnu::format(printf, 1, 2)]] std::string format(const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

}  // namespace

std::string format_text(const run_summary& s) {
  const tally& t = s.total;
  const auto& h = t.latency;
  std::string out = "sentinel bench: " + s.method + " " + s.url + "\n";
  out += format("  %zu worker(s), %zu connection(s), ", s.workers, s.connections);
  if (s.http2) out += format("HTTP/2 with %zu stream(s) each, ", s.streams);
  if (s.rate)
    out += format("constant rate %.1f req/s (latency from the intended send time)", *s.rate);
  else
    out += "closed loop";
  if (s.request_limit) out += format(", %llu requests", static_cast<unsigned long long>(*s.request_limit));
  if (s.duration_limit) out += format(", %.1f s", *s.duration_limit);
  out += s.interrupted ? " (interrupted)\n" : "\n";
  out += format("  requests     %llu: %llu responses, %llu errors\n",
                static_cast<unsigned long long>(t.requests), static_cast<unsigned long long>(t.responses),
                static_cast<unsigned long long>(t.errors));
  out += format("  duration     %.3f s\n", s.elapsed_s);
  out += format("  req/s        %.1f\n", per_second(static_cast<double>(t.responses), s.elapsed_s));
  out += "  transfer/s   " + format_bytes(per_second(static_cast<double>(s.bytes_received), s.elapsed_s)) +
         "/s (" + format_bytes(static_cast<double>(s.bytes_received)) + " received)\n";
  if (h.count() > 0) {
    out += "  latency      min " + format_latency(h.min()) + ", mean " +
           format_latency(static_cast<std::uint64_t>(h.mean())) + ", max " + format_latency(h.max()) + "\n";
    out += "               ";
    for (std::size_t i = 0; i < std::size(percentiles); ++i)
      out += std::string(i ? ", " : "") + percentile_labels[i] + " " +
             format_latency(h.percentile(percentiles[i]));
    out += "\n";
  }
  out += "  status      ";
  bool any = false;
  for (std::size_t code = 0; code < t.status.size(); ++code)
    if (t.status[code] != 0) {
      out += format(" %zu: %llu", code, static_cast<unsigned long long>(t.status[code]));
      any = true;
    }
  out += any ? "\n" : " none\n";
  if (const auto other = non_2xx_3xx(t); other != 0)
    out += format("  non-2xx/3xx  %llu\n", static_cast<unsigned long long>(other));
  out += "  errors      ";
  for (const auto& [kind, n] : t.error_kinds)
    out += format(" %s: %llu", kind.c_str(), static_cast<unsigned long long>(n));
  out += t.error_kinds.empty() ? " none\n" : "\n";
  out += format("  connections  %llu opened\n", static_cast<unsigned long long>(s.connections_opened));
  return out;
}

std::string format_json(const run_summary& s) {
  const tally& t = s.total;
  const auto& h = t.latency;
  nlohmann::ordered_json j;
  j["url"] = s.url;
  j["method"] = s.method;
  j["workers"] = s.workers;
  j["connections"] = s.connections;
  j["http_version"] = s.http2 ? "2" : "1.1";
  j["streams_per_connection"] = s.streams;
  j["mode"] = s.rate ? "constant_rate" : "closed_loop";
  j["rate"] = s.rate ? nlohmann::ordered_json(*s.rate) : nlohmann::ordered_json(nullptr);
  j["request_limit"] =
      s.request_limit ? nlohmann::ordered_json(*s.request_limit) : nlohmann::ordered_json(nullptr);
  j["duration_limit_s"] =
      s.duration_limit ? nlohmann::ordered_json(*s.duration_limit) : nlohmann::ordered_json(nullptr);
  j["interrupted"] = s.interrupted;
  j["duration_s"] = s.elapsed_s;
  j["requests"] = t.requests;
  j["responses"] = t.responses;
  j["errors"] = t.errors;
  j["requests_per_s"] = per_second(static_cast<double>(t.responses), s.elapsed_s);
  j["bytes_received"] = s.bytes_received;
  j["transfer_bytes_per_s"] = per_second(static_cast<double>(s.bytes_received), s.elapsed_s);
  auto& lat = j["latency_us"];
  lat["count"] = h.count();
  lat["min"] = static_cast<double>(h.min()) / 1e3;
  lat["mean"] = h.mean() / 1e3;
  for (std::size_t i = 0; i < std::size(percentiles); ++i)
    lat[percentile_keys[i]] = static_cast<double>(h.percentile(percentiles[i])) / 1e3;
  lat["max"] = static_cast<double>(h.max()) / 1e3;
  auto& status = j["status"];
  status = nlohmann::ordered_json::object();
  for (std::size_t code = 0; code < t.status.size(); ++code)
    if (t.status[code] != 0) status[std::to_string(code)] = t.status[code];
  j["non_2xx_3xx"] = non_2xx_3xx(t);
  auto& kinds = j["errors_by_kind"];
  kinds = nlohmann::ordered_json::object();
  for (const auto& [kind, n] : t.error_kinds)
    kinds[kind] = n;
  j["connections_opened"] = s.connections_opened;
  return j.dump() + "\n";
}

}  // namespace sentinel::cli
