// sentinel: coroutine frames for task<T> (task.hpp): a free list per size class per thread.
//
// Written here: frames are allocated and freed on the thread that runs their chain (a worker's, or the
// client's), so a thread-local list needs no lock and a steady request finds every frame it needs where
// the previous one left it. Frames freed on another thread simply join that thread's lists.
#include <sentinel/detail/task.hpp>

#include <array>
#include <new>
#include <utility>

namespace sentinel::detail {
namespace {

constexpr std::size_t granule = 64;      // size classes: 64, 128, ... bytes
constexpr std::size_t classes = 64;      // up to 4 KiB; larger frames go to operator new each time
constexpr std::size_t max_cached = 256;  // per class: enough for 256 requests in flight per thread

struct free_block {
  free_block* next;
};

// Set when this thread's lists are gone (thread exit): frames freed later go straight to delete.
thread_local bool lists_gone = false;

class frame_lists {
 public:
  frame_lists() = default;
  frame_lists(const frame_lists&) = delete;
  frame_lists& operator=(const frame_lists&) = delete;
  ~frame_lists() {
    for (free_block* b : head_) {
      while (b != nullptr)
        ::operator delete(std::exchange(b, b->next));
    }
    lists_gone = true;
  }

  void* take(std::size_t cls) noexcept {
    free_block* b = head_[cls];
    if (b == nullptr) return nullptr;
    head_[cls] = b->next;
    --count_[cls];
    return b;
  }
  bool give(std::size_t cls, void* p) noexcept {
    if (count_[cls] >= max_cached) return false;
    head_[cls] = ::new (p) free_block{head_[cls]};
    ++count_[cls];
    return true;
  }

 private:
  std::array<free_block*, classes> head_{};
  std::array<std::size_t, classes> count_{};
};

frame_lists* lists() noexcept {
  thread_local frame_lists l;
  return lists_gone ? nullptr : &l;
}

constexpr std::size_t class_of(std::size_t size) noexcept {
  return (size + granule - 1) / granule - 1;
}

}  // namespace

void* frame_allocate(std::size_t size) {
  const std::size_t cls = class_of(size);
  if (cls >= classes) return ::operator new(size);
  if (frame_lists* l = lists()) {
    if (void* p = l->take(cls)) return p;
  }
  return ::operator new((cls + 1) * granule);
}

void frame_deallocate(void* p, std::size_t size) noexcept {
  const std::size_t cls = class_of(size);
  if (cls < classes) {
    if (frame_lists* l = lists(); l != nullptr && l->give(cls, p)) return;
  }
  ::operator delete(p);
}

}  // namespace sentinel::detail
