// sentinel: name resolution with a per-client cache. See resolve.hpp.
#include "transport/resolve.hpp"

#include <sentinel/error.hpp>

#include <asio/ip/address.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>

namespace sentinel::detail {

asio::awaitable<std::error_code> dns_cache::resolve(const url& u, std::vector<tcp::endpoint>& out,
                                                    clock::time_point deadline) {
  out.clear();
  std::error_code ec;
  if (u.host_is_ip()) {
    out.emplace_back(asio::ip::make_address(std::string(u.host()), ec), u.port());
    co_return ec;
  }
  std::string key = u.origin();
  const auto now = clock::now();
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (it->second.expires > now) {
      out = it->second.endpoints;
      co_return std::error_code{};
    }
    entries_.erase(it);
  }

  // getaddrinfo runs on Asio's resolver thread and cannot be interrupted, and Asio 1.22's resolver has no
  // per-operation cancellation: race it against a timer ourselves and abandon it on timeout (its result
  // is dropped when it arrives).
  struct state {
    explicit state(const asio::any_io_executor& ex) : resolver(ex), timer(ex) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    std::error_code ec;
    tcp::resolver::results_type results;
    bool done = false;
  };
  auto st = std::make_shared<state>(ex_);
  st->resolver.async_resolve(std::string(u.host()), std::to_string(u.port()),
                             asio::ip::resolver_base::numeric_service,
                             [st](std::error_code e, tcp::resolver::results_type r) {
                               if (st->done) return;
                               st->done = true;
                               st->ec = e;
                               st->results = std::move(r);
                               st->timer.cancel();
                             });
  st->timer.expires_at(deadline);
  std::error_code wait_ec;
  co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
  if (!st->done) {
    st->done = true;
    st->resolver.cancel();
    // Our own cancellation (the caller's) aborts the wait; only an expired timer is a timeout.
    co_return wait_ec == asio::error::operation_aborted ? wait_ec : make_error_code(error::resolve_timeout);
  }
  if (st->ec) co_return st->ec;
  for (const auto& r : st->results)
    out.push_back(r.endpoint());
  if (out.empty()) co_return asio::error::host_not_found;
  entries_[std::move(key)] = entry{out, now + ttl_};
  co_return std::error_code{};
}

}  // namespace sentinel::detail
