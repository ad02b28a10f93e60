// sentinel benchmarks: the replaced global operator new/delete. See alloc_counter.hpp.
#include "alloc_counter.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace bench::alloc {
namespace {

// Trivially constructible thread_locals: no dynamic initialisation, so operator new may touch them.
thread_local bool t_on = false;
thread_local counts t_counts;
thread_local std::size_t t_trace_left = 0;
thread_local bool t_in_trace = false;

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
  if (!t_on) return;
  ++t_counts.allocations;
  t_counts.bytes += size;
  if (t_trace_left > 0 && !t_in_trace && t_trace_count < max_traces) {
    t_in_trace = true;  // backtrace() may allocate the first time (it loads the unwinder)
    --t_trace_left;
    trace& t = t_traces[t_trace_count++];
    t.size = size;
    t.depth = ::backtrace(t.frames, max_depth);
    t_in_trace = false;
  }
}

void* allocate(std::size_t size) {
  record(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* allocate_aligned(std::size_t size, std::align_val_t al) {
  record(size);
  const std::size_t a =
      static_cast<std::size_t>(al) < sizeof(void*) ? sizeof(void*) : static_cast<std::size_t>(al);
  void* p = nullptr;
  if (::posix_memalign(&p, a, size == 0 ? 1 : size) != 0) throw std::bad_alloc();
  return p;
}

void release(void* p) noexcept {
  if (p == nullptr) return;
  if (t_on) ++t_counts.deallocations;
  std::free(p);
}

}  // namespace

void count_this_thread(bool on) noexcept {
  t_on = on;
}

counts this_thread() noexcept {
  return t_counts;
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
    for (int f = 2; f < t.depth; ++f) {  // skip record() and allocate()
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

}  // namespace bench::alloc

// ---- the replacements -----------------------------------------------------------------------------------

void* operator new(std::size_t n) {
  return bench::alloc::allocate(n);
}
void* operator new[](std::size_t n) {
  return bench::alloc::allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return bench::alloc::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return bench::alloc::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) {
  return bench::alloc::allocate_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return bench::alloc::allocate_aligned(n, a);
}
void operator delete(void* p) noexcept {
  bench::alloc::release(p);
}
void operator delete[](void* p) noexcept {
  bench::alloc::release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  bench::alloc::release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  bench::alloc::release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  bench::alloc::release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  bench::alloc::release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  bench::alloc::release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  bench::alloc::release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  bench::alloc::release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  bench::alloc::release(p);
}
