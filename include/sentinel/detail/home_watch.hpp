// sentinel: a debug-build check that a completion's home context outlives the operation.
//
// Destroying an io_context while a client_pool operation that completes on it is still in flight is a
// use-after-free on a worker (it posts the completion into freed memory). With owner checks on (debug
// builds of the library), each operation is counted on a small service of its home context while a
// worker may still touch that context; destroying the context with a non-zero count aborts with a
// message that names the mistake. Release builds of the library count nothing.
#pragma once

#include <sentinel/config.hpp>

#include <asio/execution/context.hpp>
#include <asio/execution_context.hpp>
#include <asio/query.hpp>
#include <asio/system_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace sentinel::detail {

/// The counter of `ctx`'s watch service, already incremented; nullptr when the library does not check
/// (release builds).
std::shared_ptr<std::atomic<std::size_t>> home_watch_attach(asio::execution_context& ctx);

class home_watch {
 public:
  home_watch() noexcept = default;
  template <class Executor>
  explicit home_watch(const Executor& ex) {
    using context_type = std::remove_reference_t<decltype(context_of(ex))>;
    // Asio's system context (use_future's home) lives until exit: the check is for contexts users destroy.
    if constexpr (!std::is_same_v<std::remove_cv_t<context_type>, asio::system_context>)
      count_ = home_watch_attach(context_of(ex));
  }
  home_watch(const home_watch&) = delete;
  home_watch& operator=(const home_watch&) = delete;
  ~home_watch() { release(); }
  /// The pool will not touch the home context for this operation any more.
  void release() noexcept {
    if (count_) std::exchange(count_, nullptr)->fetch_sub(1, std::memory_order_acq_rel);
  }

 private:
  template <class Executor>
  static decltype(auto) context_of(const Executor& ex) {
    if constexpr (asio::can_query<const Executor&, asio::execution::context_t>::value) {
      return asio::query(ex, asio::execution::context);
    } else {
      return ex.context();
    }
  }
  std::shared_ptr<std::atomic<std::size_t>> count_;
};

}  // namespace sentinel::detail
