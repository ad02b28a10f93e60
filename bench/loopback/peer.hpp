// The "native peer" contract of bench/loopback/harness.py: what every load client written in bench/ (the
// sentinel, Beast and libcurl peers) takes and prints, so that one adapter in the harness runs them all.
//
//   PEER URL CONNECTIONS REQUESTS BODY_BYTES [RATE]
//
//   URL         http://127.0.0.1:PORT/path (plain HTTP/1.1, keep-alive)
//   CONNECTIONS request loops, one connection each, one request in flight per loop
//   REQUESTS    in total, split over the loops (the first REQUESTS % CONNECTIONS get one more)
//   BODY_BYTES  a response counts as OK when its status is 200 and its body has this many bytes (-1: any)
//   RATE        optional, requests per second over all loops (0 or absent: closed loop); loop i sends its
//               k-th request (k from 0) at start + (i + k * CONNECTIONS) / RATE, so that the loops
//               interleave into one even schedule (the same as `sentinel bench --rate`)
//
// Output, on stdout, one line (the harness reads nothing else from stdout):
//
//   RESULT requests=N ok=N errors=N seconds=S rps=R p50_us=P p99_us=Q
//
// `seconds` runs from the first loop's start to the last completion (process start and exit excluded),
// `rps` = ok / seconds. The first error is described on stderr. Exit status: 0 when every request was OK,
// 1 when some were not, 2 for bad arguments.
//
// Latency percentiles come from a small log-linear histogram (below): 1 us resolution below 64 us, then
// 32 buckets per power of two (under 3.2 % error), 8 KiB in all, so that the client's peak RSS measures the
// client and not the measuring tape.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace peer {

struct options {
  std::string url;
  std::string host;  ///< from url
  std::string port;  ///< from url ("80" when absent)
  std::string path;  ///< from url ("/" when absent)
  long connections = 0;
  long requests = 0;
  long body_bytes = -1;
  double rate = 0;

  /// Requests loop `i` sends.
  long share(long i) const { return requests / connections + (i < requests % connections ? 1 : 0); }
  bool limited() const { return rate > 0; }
  /// When loop `i` sends its k-th request, as an offset from the start (only when limited()).
  std::chrono::nanoseconds due(long i, long k) const {
    const double s = (static_cast<double>(i) + static_cast<double>(k) * static_cast<double>(connections)) / rate;
    return std::chrono::nanoseconds(static_cast<long long>(s * 1e9));
  }
};

[[noreturn]] inline void usage(const char* argv0, const char* why) {
  std::fprintf(stderr, "%s: %s\nusage: %s URL CONNECTIONS REQUESTS BODY_BYTES [RATE]\n", argv0, why, argv0);
  std::exit(2);
}

inline options parse(int argc, char** argv) {
  if (argc < 5 || argc > 6) usage(argv[0], "wrong number of arguments");
  options o;
  o.url = argv[1];
  const std::string scheme = "http://";
  if (o.url.compare(0, scheme.size(), scheme) != 0) usage(argv[0], "the URL must start with http://");
  const std::string rest = o.url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  o.host = authority.substr(0, colon);
  o.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  o.connections = std::atol(argv[2]);
  o.requests = std::atol(argv[3]);
  o.body_bytes = std::atol(argv[4]);
  if (argc == 6) o.rate = std::atof(argv[5]);
  if (o.connections < 1 || o.requests < o.connections)
    usage(argv[0], "need REQUESTS >= CONNECTIONS >= 1");
  if (o.rate < 0) usage(argv[0], "RATE must not be negative");
  return o;
}

/// Log-linear latency histogram in microseconds; not thread-safe (each peer records on one thread).
class histogram {
 public:
  void record(std::uint64_t us) noexcept { ++counts_[index(us)]; ++total_; }
  std::uint64_t count() const noexcept { return total_; }
  /// The smallest value v such that at least p (0..1) of the samples are <= the top of v's bucket.
  std::uint64_t percentile(double p) const noexcept {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(p * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) return upper(i);
    }
    return upper(counts_.size() - 1);
  }

 private:
  static constexpr unsigned linear_bits = 6;  // 0..63 us exactly
  static constexpr unsigned sub_bits = 5;     // 32 buckets per power of two above
  static constexpr unsigned max_exp = 34;     // up to 2^34 us (~4.8 h), the rest in the last bucket
  static constexpr std::size_t size = (1u << linear_bits) + (max_exp - linear_bits + 1) * (1u << sub_bits);

  static std::size_t index(std::uint64_t v) noexcept {
    if (v < (1u << linear_bits)) return static_cast<std::size_t>(v);
    const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;  // v in [2^e, 2^(e+1))
    if (e > max_exp) return size - 1;
    const auto sub = static_cast<std::size_t>((v >> (e - sub_bits)) & ((1u << sub_bits) - 1));
    return (1u << linear_bits) + (e - linear_bits) * (1u << sub_bits) + sub;
  }
  static std::uint64_t upper(std::size_t i) noexcept {
    if (i < (1u << linear_bits)) return i;
    const std::size_t j = i - (1u << linear_bits);
    const unsigned e = static_cast<unsigned>(j >> sub_bits) + linear_bits;
    const std::uint64_t sub = j & ((1u << sub_bits) - 1);
    return (std::uint64_t{1} << e) + ((sub + 1) << (e - sub_bits)) - 1;
  }

  std::array<std::uint64_t, size> counts_{};
  std::uint64_t total_ = 0;
};

using clock = std::chrono::steady_clock;

inline std::uint64_t micros(clock::duration d) noexcept {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

/// What a peer counted; print() writes the RESULT line and returns the exit status.
struct tally {
  std::uint64_t requests = 0, ok = 0, errors = 0;
  histogram latency;
  bool first_error_reported = false;

  /// Counts one completed exchange; `what` describes a failure (printed once, on stderr).
  void complete(bool good, std::uint64_t latency_us, const char* what = nullptr) {
    ++requests;
    latency.record(latency_us);
    if (good) {
      ++ok;
      return;
    }
    ++errors;
    if (!first_error_reported) {
      first_error_reported = true;
      std::fprintf(stderr, "first error: %s\n", what ? what : "(unknown)");
    }
  }

  int print(double seconds) const {
    std::printf("RESULT requests=%llu ok=%llu errors=%llu seconds=%.6f rps=%.1f p50_us=%llu p99_us=%llu\n",
                static_cast<unsigned long long>(requests), static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(errors), seconds,
                seconds > 0 ? static_cast<double>(ok) / seconds : 0.0,
                static_cast<unsigned long long>(latency.percentile(0.50)),
                static_cast<unsigned long long>(latency.percentile(0.99)));
    std::fflush(stdout);
    return errors == 0 && ok > 0 ? 0 : 1;
  }
};

}  // namespace peer
