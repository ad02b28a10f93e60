// sentinel tests and benchmarks: the replaced C allocator entry points. See alloc_counter.hpp.
#include "alloc_counter.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace sentinel::test::alloc {
namespace {

// Trivially constructible thread_locals and constant-initialised atomics: no dynamic initialisation, so
// malloc may touch them from the first allocation of the process or of a thread on.
thread_local bool t_on = false;
thread_local bool t_excluded = false;
thread_local counts t_counts;
thread_local std::size_t t_trace_left = 0;
thread_local bool t_in_trace = false;

std::atomic<bool> g_on{false};
std::atomic<std::uint64_t> g_allocations{0};
std::atomic<std::uint64_t> g_deallocations{0};
std::atomic<std::uint64_t> g_bytes{0};

constexpr std::size_t max_traces = 64;
constexpr int max_depth = 24;
struct trace {
  std::size_t size;
  int depth;
  void* frames[max_depth];
};
thread_local trace t_traces[max_traces];
thread_local std::size_t t_trace_count = 0;

void record(std::size_t size) noexcept {
  if (g_on.load(std::memory_order_relaxed) && !t_excluded) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(size, std::memory_order_relaxed);
  }
  if (!t_on) return;
  ++t_counts.allocations;
  t_counts.bytes += size;
  if (t_trace_left > 0 && !t_in_trace && t_trace_count < max_traces) {
    t_in_trace = true;  // backtrace() allocates the first time (it loads the unwinder)
    --t_trace_left;
    trace& t = t_traces[t_trace_count++];
    t.size = size;
    t.depth = ::backtrace(t.frames, max_depth);
    t_in_trace = false;
  }
}

void record_release() noexcept {
  if (g_on.load(std::memory_order_relaxed) && !t_excluded)
    g_deallocations.fetch_add(1, std::memory_order_relaxed);
  if (t_on) ++t_counts.deallocations;
}

}  // namespace

void count_this_thread(bool on) noexcept {
  t_on = on;
}

counts this_thread() noexcept {
  return t_counts;
}

void count_all_threads(bool on) noexcept {
  g_on.store(on, std::memory_order_seq_cst);
}

counts all_threads() noexcept {
  return {g_allocations.load(), g_deallocations.load(), g_bytes.load()};
}

void exclude_this_thread() noexcept {
  t_excluded = true;
}

void trace_next(std::size_t n) noexcept {
  // Warm the unwinder up outside any counted window.
  void* frames[4];
  const bool was = t_on;
  t_on = false;
  ::backtrace(frames, 4);
  t_on = was;
  t_trace_left = n;
}

namespace {

// Names for addresses dladdr cannot name (functions with internal linkage, coroutine bodies): one addr2line
// run over the main executable's offsets.
std::vector<std::string> addr2line_names(const std::vector<std::uintptr_t>& offsets) {
  std::vector<std::string> names;
  if (offsets.empty()) return names;
  char exe[4096];
  const ssize_t len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return names;
  exe[len] = '\0';
  std::string cmd = std::string("addr2line -f -C -e '") + exe + "'";
  char hex[32];
  for (auto off : offsets) {
    std::snprintf(hex, sizeof hex, " 0x%zx", static_cast<std::size_t>(off));
    cmd += hex;
  }
  cmd += " 2>/dev/null";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return names;
  char line[8192];
  bool fn = true;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    if (fn) {
      std::string n = line;
      while (!n.empty() && (n.back() == '\n' || n.back() == '\r'))
        n.pop_back();
      names.push_back(n);
    }
    fn = !fn;
  }
  ::pclose(p);
  return names;
}

}  // namespace

std::string take_traces() {
  const bool was = t_on;
  t_on = false;
  // Resolve every frame: dladdr for exported names, addr2line for the rest of the main executable.
  std::vector<std::vector<std::string>> frames(t_trace_count);
  std::vector<std::uintptr_t> offsets;
  std::vector<std::pair<std::size_t, std::size_t>> where;  // (trace, frame) for each offset
  Dl_info me{};
  ::dladdr(reinterpret_cast<void*>(&take_traces), &me);
  void* const self_base = me.dli_fbase;
  for (std::size_t i = 0; i < t_trace_count; ++i) {
    const trace& t = t_traces[i];
    for (int f = 2; f < t.depth; ++f) {  // skip record() and the replaced function
      Dl_info info{};
      std::string name = "?";
      if (::dladdr(t.frames[f], &info) != 0) {
        if (info.dli_sname != nullptr) {
          int status = 0;
          char* dem = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
          name = status == 0 && dem != nullptr ? dem : info.dli_sname;
          std::free(dem);
        } else if (info.dli_fbase == self_base) {
          offsets.push_back(reinterpret_cast<std::uintptr_t>(t.frames[f]) - 1 -
                            reinterpret_cast<std::uintptr_t>(info.dli_fbase));
          where.emplace_back(i, frames[i].size());
        }
      }
      frames[i].push_back(name);
    }
  }
  const auto names = addr2line_names(offsets);
  for (std::size_t k = 0; k < names.size() && k < where.size(); ++k)
    frames[where[k].first][where[k].second] = names[k];

  std::string out;
  for (std::size_t i = 0; i < t_trace_count; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "#%zu  %zu bytes\n", i + 1, t_traces[i].size);
    out += line;
    for (auto name : frames[i]) {
      if (name.size() > 160) name = name.substr(0, 157) + "...";
      out += "    " + name + "\n";
      if (name == "main") break;
    }
  }
  t_trace_count = 0;
  t_on = was;
  return out;
}

}  // namespace sentinel::test::alloc

// ---- the replacements -----------------------------------------------------------------------------------
// glibc's own entry points; the replacements below count, then forward. Their names are what the C
// library and every shared library resolve malloc & co. to once this program defines them.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) noexcept {
  sentinel::test::alloc::record(n);
  return __libc_malloc(n);
}

void free(void* p) noexcept {
  if (p != nullptr) sentinel::test::alloc::record_release();
  __libc_free(p);
}

void* calloc(std::size_t count, std::size_t size) noexcept {
  sentinel::test::alloc::record(count * size);
  return __libc_calloc(count, size);
}

// A realloc of a block is a new allocation and the release of the old one (it may move, and a program
// that reallocs per request allocates per request).
void* realloc(void* p, std::size_t n) noexcept {
  if (p == nullptr) {
    sentinel::test::alloc::record(n);
  } else if (n == 0) {
    sentinel::test::alloc::record_release();
  } else {
    sentinel::test::alloc::record(n);
    sentinel::test::alloc::record_release();
  }
  return __libc_realloc(p, n);
}

void* reallocarray(void* p, std::size_t count, std::size_t size) noexcept {
  std::size_t n = 0;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, n);
}

void* memalign(std::size_t alignment, std::size_t n) noexcept {
  sentinel::test::alloc::record(n);
  return __libc_memalign(alignment, n);
}

void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept {
  return memalign(alignment, n);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = memalign(alignment, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(std::size_t n) noexcept {
  return memalign(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), n);
}

void* pvalloc(std::size_t n) noexcept {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return memalign(page, (n + page - 1) / page * page);
}
}  // extern "C"
