// request_overhead's http_client modes: keeps `depth` requests in flight until `total` have been started;
// every completion starts the next one. Two ways to send: a copy of the request moved into
// `async_send(request, token)`, which hands back a new response (the copy is the caller's cost: counted
// apart and excluded), or, with `reuse`, `async_send(const request&, response&, token)` on the same
// request and one response per chain, filled again each time (nothing of the caller's to exclude).
#pragma once

#include "bench_common.hpp"
#include "pool_driver.hpp"
#include "support/alloc_counter.hpp"

#include <sentinel/http_client.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <cstdio>
#include <vector>

namespace bench {

class client_driver {
 public:
  client_driver(asio::io_context& ctx, sentinel::http_client& client, const sentinel::request& proto,
                bool reuse)
      : ctx_(ctx), client_(client), proto_(proto), reuse_(reuse) {}

  phase_result run(std::size_t total, std::size_t depth) {
    remaining_ = total;
    in_flight_ = 0;
    errors_ = 0;
    if (responses_.size() < depth) responses_.resize(depth);
    ctx_.restart();
    auto guard = asio::make_work_guard(ctx_);  // stop() ends the phase, not a momentarily empty queue
    const auto a0 = sentinel::test::alloc::this_thread();
    const double cpu0 = thread_cpu_us();
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < depth && remaining_ > 0; ++i)
      start_one(i);
    ctx_.run();
    const double wall = seconds_since(t0);
    const double cpu = thread_cpu_us() - cpu0;
    const auto a = sentinel::test::alloc::this_thread() - a0 - excluded_;
    excluded_ = {};
    return per_request(total, wall, cpu, a, errors_);
  }

 private:
  void start_one(std::size_t chain) {
    --remaining_;
    ++in_flight_;
    if (reuse_) {
      sentinel::response& res = responses_[chain];
      client_.async_send(proto_, res, [this, chain, &res](std::error_code ec) { done(chain, ec, res); });
      return;
    }
    // The caller's copy of the request is the caller's cost, not the library's: measured, then excluded.
    const auto before = sentinel::test::alloc::this_thread();
    sentinel::request req = proto_;
    const auto after = sentinel::test::alloc::this_thread();
    excluded_.allocations += after.allocations - before.allocations;
    excluded_.bytes += after.bytes - before.bytes;
    // ...and so is its destruction: the library moves it into the operation and frees it there, which
    // shows up as the library's frees. Allocations are what the summary is about.
    client_.async_send(std::move(req),
                       [this, chain](std::error_code ec, sentinel::response res) { done(chain, ec, res); });
  }

  void done(std::size_t chain, std::error_code ec, const sentinel::response& res) {
    if (ec || res.status() != 200 || res.body().size() != 13) {
      if (errors_++ == 0)
        std::fprintf(stderr, "request failed: %s (status %d, %zu body bytes)\n", ec.message().c_str(),
                     res.status(), res.body().size());
    }
    --in_flight_;
    if (remaining_ > 0) {
      start_one(chain);
    } else if (in_flight_ == 0) {
      ctx_.stop();
    }
  }

  asio::io_context& ctx_;
  sentinel::http_client& client_;
  const sentinel::request& proto_;
  const bool reuse_;
  std::vector<sentinel::response> responses_;  // one per chain (reuse)
  std::size_t remaining_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t errors_ = 0;
  sentinel::test::alloc::counts excluded_;
};

}  // namespace bench
