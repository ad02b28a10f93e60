// sentinel benchmarks: small shared helpers (process metrics, statistics, JSON output, skipping).
//
// Nothing here knows about sentinel itself: it is the measuring tape, kept apart from what it measures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// ---- process and thread metrics (Linux) ----------------------------------------------------------------

/// Resident set size of this process right now, in KiB (/proc/self/statm).
std::uint64_t rss_kib();
/// Peak resident set size of this process so far, in KiB (getrusage(RUSAGE_SELF).ru_maxrss).
std::uint64_t peak_rss_kib();
/// Peak resident set size of this process image, in KiB (VmHWM of /proc/self/status: unlike ru_maxrss it
/// starts afresh at exec).
std::uint64_t hwm_kib();
/// User + system CPU time of the calling thread, in microseconds (getrusage(RUSAGE_THREAD)).
double thread_cpu_us();
/// User + system CPU time of the whole process, in microseconds.
double process_cpu_us();
/// Heap bytes malloc has handed out and not had back (mallinfo2: arenas + mmapped chunks).
std::uint64_t heap_in_use_bytes();
/// Threads of this process (/proc/self/task).
std::size_t thread_count();
/// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();
/// "model name" of /proc/cpuinfo, for the JSON header.
std::string cpu_model();
/// The current 1-minute load average (/proc/loadavg), -1 if unknown.
double loadavg1();

using clock = std::chrono::steady_clock;
inline double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

/// Makes the optimiser assume `v` is read and written here (so computing it cannot be elided).
template <class T>
inline void keep(T& v) noexcept {
  asm volatile("" : : "r"(&v) : "memory");
}

// ---- statistics -----------------------------------------------------------------------------------------

/// Median of `v` (0 for an empty vector). Takes a copy: the caller's order is kept.
double median(std::vector<double> v);

// ---- output ---------------------------------------------------------------------------------------------

/// Builds one JSON document as text. Keys are written as given (they are ours: no escaping needed);
/// string values are escaped.
class json {
 public:
  json& begin_object(std::string_view key = {});
  json& end_object();
  json& begin_array(std::string_view key = {});
  json& end_array();
  json& num(std::string_view key, double v);
  json& num(std::string_view key, std::uint64_t v);
  json& num(std::string_view key, int v) { return num(key, static_cast<double>(v)); }
  json& str(std::string_view key, std::string_view v);
  json& boolean(std::string_view key, bool v);
  const std::string& text() const noexcept { return out_; }

 private:
  void sep(std::string_view key);
  std::string out_;
  std::vector<bool> first_{true};
};

/// The standard header every benchmark's JSON starts with: name, question, date, cpu, load.
void json_header(json& j, std::string_view name, std::string_view question);

/// Command-line options shared by the benchmark programs: `--json PATH` and `--quick` (a short run for
/// smoke tests). Unknown arguments are left for the program (returned in `rest`).
struct common_args {
  std::string json_path;
  bool quick = false;
  std::vector<std::string> rest;
};
common_args parse_common_args(int argc, char** argv, std::string_view default_json);

/// Writes `text` to `path` (creating or truncating it) and says where on stdout. Returns false on error.
bool write_file(const std::string& path, const std::string& text);

/// Prints "SKIP: reason" and exits with 77, which meson reports as a skipped test.
[[noreturn]] void skip(std::string_view reason);

/// Ends the process (exit 1, with a message) if it is still running `seconds` from now: a benchmark that
/// stalls fails instead of hanging. One per process; calling it again re-arms it. 0 disarms.
void watchdog(unsigned seconds, std::string_view what);

/// printf into a std::string.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace bench
