// sentinel benchmarks: shared helpers. See bench_common.hpp.
#include "bench_common.hpp"

#include <dirent.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>

namespace bench {

std::uint64_t rss_kib() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

std::uint64_t peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::uint64_t>(ru.ru_maxrss);
}

std::uint64_t hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

namespace {
double cpu_us(int who) {
  rusage ru{};
  ::getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}
}  // namespace

double thread_cpu_us() {
  return cpu_us(RUSAGE_THREAD);
}

double process_cpu_us() {
  return cpu_us(RUSAGE_SELF);
}

std::uint64_t heap_in_use_bytes() {
  const struct mallinfo2 mi = ::mallinfo2();
  return static_cast<std::uint64_t>(mi.uordblks) + static_cast<std::uint64_t>(mi.hblkhd);
}

std::size_t thread_count() {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return 0;
  std::size_t n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

std::uint64_t raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<std::uint64_t>(rl.rlim_cur);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

double loadavg1() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return -1;
  double l = -1;
  if (std::fscanf(f, "%lf", &l) != 1) l = -1;
  std::fclose(f);
  return l;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---- json -----------------------------------------------------------------------------------------------

void json::sep(std::string_view key) {
  if (!first_.back()) out_ += ',';
  first_.back() = false;
  if (!key.empty()) {
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
}

json& json::begin_object(std::string_view key) {
  sep(key);
  out_ += '{';
  first_.push_back(true);
  return *this;
}

json& json::end_object() {
  first_.pop_back();
  out_ += '}';
  return *this;
}

json& json::begin_array(std::string_view key) {
  sep(key);
  out_ += '[';
  first_.push_back(true);
  return *this;
}

json& json::end_array() {
  first_.pop_back();
  out_ += ']';
  return *this;
}

json& json::num(std::string_view key, double v) {
  sep(key);
  out_ += format("%.6g", v);
  return *this;
}

json& json::num(std::string_view key, std::uint64_t v) {
  sep(key);
  out_ += std::to_string(v);
  return *this;
}

json& json::str(std::string_view key, std::string_view v) {
  sep(key);
  out_ += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out_ += format("\\u%04x", static_cast<unsigned>(c));
    } else {
      out_ += c;
    }
  }
  out_ += '"';
  return *this;
}

json& json::boolean(std::string_view key, bool v) {
  sep(key);
  out_ += v ? "true" : "false";
  return *this;
}

void json_header(json& j, std::string_view name, std::string_view question) {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  j.str("benchmark", name);
  j.str("question", question);
  j.str("date", date);
  j.str("cpu", cpu_model());
  j.num("cpus", static_cast<std::uint64_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  j.num("loadavg1_at_start", loadavg1());
}

common_args parse_common_args(int argc, char** argv, std::string_view default_json) {
  common_args a;
  a.json_path = std::string(default_json);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json" && i + 1 < argc) {
      a.json_path = argv[++i];
    } else if (arg.rfind("--json=", 0) == 0) {
      a.json_path = std::string(arg.substr(7));
    } else if (arg == "--quick") {
      a.quick = true;
    } else {
      a.rest.emplace_back(arg);
    }
  }
  if (const char* q = std::getenv("SENTINEL_BENCH_QUICK"); q != nullptr && *q != '\0' && *q != '0')
    a.quick = true;
  return a;
}

bool write_file(const std::string& path, const std::string& text) {
  if (path.empty()) return true;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text << '\n';
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return false;
  }
  std::printf("json: %s\n", path.c_str());
  return true;
}

void skip(std::string_view reason) {
  std::printf("SKIP: %.*s\n", static_cast<int>(reason.size()), reason.data());
  std::fflush(stdout);
  std::exit(77);
}

namespace {
char g_watchdog_what[128];
extern "C" void on_watchdog(int) {
  static const char head[] = "\nTIMEOUT: the benchmark did not finish in time: ";
  (void)!::write(2, head, sizeof head - 1);
  (void)!::write(2, g_watchdog_what, std::strlen(g_watchdog_what));
  (void)!::write(2, "\n", 1);
  ::_exit(1);
}
}  // namespace

void watchdog(unsigned seconds, std::string_view what) {
  const std::size_t n = std::min(what.size(), sizeof g_watchdog_what - 1);
  std::memcpy(g_watchdog_what, what.data(), n);
  g_watchdog_what[n] = '\0';
  ::signal(SIGALRM, on_watchdog);
  ::alarm(seconds);
}

std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char buf[512];
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(s.data(), s.size(), fmt, ap);
  va_end(ap);
  s.resize(static_cast<std::size_t>(n));
  return s;
}

}  // namespace bench
