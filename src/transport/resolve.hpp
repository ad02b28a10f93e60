// sentinel: name resolution with a small per-client (so per-worker) cache.
#pragma once

#include <sentinel/url.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace sentinel::detail {

using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

/// Name resolution with a per-client cache (getaddrinfo gives no TTL: entries live `ttl`).
/// IP literals never touch the resolver.
class dns_cache {
 public:
  explicit dns_cache(asio::any_io_executor ex, std::chrono::seconds ttl = std::chrono::seconds(60))
      : ex_(std::move(ex)), ttl_(ttl) {}

  /// Resolves u's host and port into `out` (in the resolver's order). Fails with resolve_timeout when
  /// `deadline` passes first, or with the resolver's error.
  asio::awaitable<std::error_code> resolve(const url& u, std::vector<tcp::endpoint>& out,
                                           clock::time_point deadline);

 private:
  struct entry {
    std::vector<tcp::endpoint> endpoints;
    clock::time_point expires;
  };
  asio::any_io_executor ex_;
  std::chrono::seconds ttl_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace sentinel::detail
