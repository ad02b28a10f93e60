// sentinel: http_client, its core's life cycle, and the awaitable shortcuts. The exchange itself (redirects,
// the stale-connection retry, deadlines) is in exchange.cpp.
#include <sentinel/http_client.hpp>

#include "client/client_core.hpp"
#include "protocols/sessions.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace sentinel {
namespace detail {

client_core::client_core(asio::any_io_executor executor, client_options options)
    : ex(std::move(executor)),
      opts(std::move(options)),
      // The shared read buffer holds a maximal unfinished head plus a generous read: 64 KiB reads keep
      // large bodies cheap (a 512-byte read buffer made Beast 10x slower on 1 MiB bodies).
      conns(std::make_shared<connection_context>(ex, opts.tls, opts.limits.max_head_bytes + 64 * 1024)),
      proxies(opts.proxy),
      pool(conns, opts.pool, make_session_factory(conns, opts.limits, opts.pool)) {}

client_core::~client_core() {
  pool.shutdown();
}

void client_core::shutdown() noexcept {
  stopped_ = true;
  pool.shutdown();
}

void client_core::exchange_started() noexcept {
  ++active_;
}

void client_core::exchange_finished() noexcept {
  if (--active_ == 0 && !background_timers_) pool.quiesce();
}

}  // namespace detail

// ---- http_client --------------------------------------------------------------------------------------

http_client::http_client(executor_type ex, client_options options)
    : core_(std::make_shared<detail::client_core>(std::move(ex), std::move(options))) {}

http_client::~http_client() {
  if (core_) core_->shutdown();
}

http_client::http_client(http_client&&) noexcept = default;

http_client& http_client::operator=(http_client&& other) noexcept {
  if (this != &other) {
    if (core_) core_->shutdown();
    core_ = std::move(other.core_);
  }
  return *this;
}

http_client::executor_type http_client::get_executor() const noexcept {
  return core_->ex;
}
const client_options& http_client::options() const noexcept {
  return core_->opts;
}
http_client::executor_type http_client::core_executor(const detail::client_core& core) noexcept {
  return core.ex;
}

void http_client::check_owner(const detail::client_core& core) {
  core.owner.check("sentinel::http_client");
}

detail::task<detail::outcome> http_client::run_exchange(std::shared_ptr<detail::client_core> core,
                                                        request req) {
  // Not a coroutine itself (no frame of its own): it hands back the exchange's task.
  detail::client_core* c = core.get();
  return c->exchange(std::move(core), std::move(req));
}

detail::task<std::error_code> http_client::run_exchange_into(std::shared_ptr<detail::client_core> core,
                                                             detail::exchange_target into) {
  detail::client_core* c = core.get();
  return c->exchange_into(std::move(core), into);
}

client_stats http_client::stats() const noexcept {
  return core_->stats();
}

void http_client::shutdown() noexcept {
  core_->shutdown();
}

asio::awaitable<response> http_client::send(request req) {
  // Through async_send, so the exchange runs as its own coroutine thread: it sets its own cancellation
  // filters, which must not leak into the caller's coroutine.
  auto [ec, res] = co_await async_send(std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
  if (ec) {
    // A callback that threw: its exception comes out of co_await as if the callback had run inline.
    if (res.info().callback_exception) std::rethrow_exception(res.info().callback_exception);
    throw request_error(ec, std::move(res.info().failure));
  }
  co_return std::move(res);
}

asio::awaitable<response> http_client::get(std::string_view url, sentinel::headers fields) {
  request req("GET", url, std::move(fields));
  co_return co_await send(std::move(req));
}

asio::awaitable<response> http_client::head(std::string_view url, sentinel::headers fields) {
  request req("HEAD", url, std::move(fields));
  co_return co_await send(std::move(req));
}

asio::awaitable<response> http_client::post(std::string_view url, std::string body,
                                            sentinel::headers fields) {
  request req("POST", url, std::move(fields), std::move(body));
  co_return co_await send(std::move(req));
}

asio::awaitable<response> http_client::put(std::string_view url, std::string body, sentinel::headers fields) {
  request req("PUT", url, std::move(fields), std::move(body));
  co_return co_await send(std::move(req));
}

asio::awaitable<response> http_client::del(std::string_view url, sentinel::headers fields) {
  request req("DELETE", url, std::move(fields));
  co_return co_await send(std::move(req));
}

client_stats& client_stats::operator+=(const client_stats& o) noexcept {
#define SENTINEL_STATS_ADD(name) name += o.name;
  SENTINEL_CLIENT_STATS(SENTINEL_STATS_ADD)
#undef SENTINEL_STATS_ADD
  return *this;
}

}  // namespace sentinel
