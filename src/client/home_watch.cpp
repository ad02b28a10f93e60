// sentinel: the debug-build home-context check of client_pool operations. See detail/home_watch.hpp.
#include <sentinel/detail/home_watch.hpp>

#include <cstdio>
#include <cstdlib>

namespace sentinel::detail {
namespace {

#if SENTINEL_OWNER_CHECKS
// Lives as long as its context; shut down (first, being the newest service) when the context is destroyed.
class home_watch_service final : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;
  explicit home_watch_service(asio::execution_context& ctx)
      : asio::execution_context::service(ctx), count_(std::make_shared<std::atomic<std::size_t>>(0)) {}
  const std::shared_ptr<std::atomic<std::size_t>>& count() const noexcept { return count_; }

 private:
  void shutdown() override {
    const std::size_t n = count_->load(std::memory_order_acquire);
    if (n == 0) return;
    std::fprintf(stderr,
                 "sentinel: an execution context (an io_context, say) was destroyed while %zu client_pool "
                 "operation(s) that complete on it were still in flight. A worker would post the completion "
                 "into freed memory. Run the context until run() returns, or stop (or destroy) the pool "
                 "before destroying the context.\n",
                 n);
    std::abort();
  }

  std::shared_ptr<std::atomic<std::size_t>> count_;
};
asio::execution_context::id home_watch_service::id;
#endif

}  // namespace

std::shared_ptr<std::atomic<std::size_t>> home_watch_attach([[maybe_unused]] asio::execution_context& ctx) {
#if SENTINEL_OWNER_CHECKS
  auto count = asio::use_service<home_watch_service>(ctx).count();
  count->fetch_add(1, std::memory_order_acq_rel);
  return count;
#else
  return nullptr;
#endif
}

}  // namespace sentinel::detail
