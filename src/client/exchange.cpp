// sentinel: one request end to end on a client: redirects, the stale-connection retry (docs/retry.md),
// deadlines and cancellation (docs/cancellation.md). Runs on the client's executor.
#include "client/attempt_plan.hpp"
#include "client/body_consumer.hpp"
#include "client/client_core.hpp"
#include "client/file_body.hpp"
#include "client/redirect.hpp"
#include "transport/cancel.hpp"
#include "wire/request_check.hpp"

#include <asio/cancellation_type.hpp>

namespace sentinel::detail {
namespace {

std::error_code check_head(const request& req, const attempt_plan& plan) noexcept {
  const request_extras& x = plan.extras;
  return check_request_head(req.method(), req.url(), req.headers(), x.body_length.value_or(req.body().size()),
                            x.length_unknown,
                            {{"User-Agent", x.user_agent},
                             {"Accept-Encoding", x.accept_encoding},
                             {"Proxy-Authorization", x.proxy_authorization, false}});
}

// Counts an exchange in flight for as long as it runs, on every path (an idle client that does not own
// its executor stops its timers when the count drops to zero, so the user's run() can return).
class active_exchange {
 public:
  explicit active_exchange(client_core& core) noexcept : core_(core) { core_.exchange_started(); }
  active_exchange(const active_exchange&) = delete;
  active_exchange& operator=(const active_exchange&) = delete;
  ~active_exchange() { core_.exchange_finished(); }

 private:
  client_core& core_;
};

// Records where an exchange failed: sending or receiving, and the address it talked to (the host and port
// over a test connector, which has no address).
void exchange_failed(transfer_info& info, const exchange_outcome& r, const tcp::endpoint& peer,
                     const route& rt) {
  info.failure.phase = r.failed_sending ? phase::send : phase::receive;
  info.failure.http2_error = r.http2_error;
  info.failure.endpoint =
      peer.port() != 0 ? endpoint_text(peer) : (rt.proxy != nullptr ? *rt.proxy : *rt.target).host_port();
}

// The result of an exchange as its coroutine returns it: the code and the response it owns, or the code
// alone when the response is the caller's.
std::error_code& code_of(outcome& r) noexcept {
  return r.ec;
}
std::error_code& code_of(std::error_code& r) noexcept {
  return r;
}

}  // namespace

task<outcome> client_core::exchange(std::shared_ptr<client_core> self, request req) {
  return run<outcome>(std::move(self), std::optional<request>(std::move(req)), {});
}

task<std::error_code> client_core::exchange_into(std::shared_ptr<client_core> self, exchange_target into) {
  return run<std::error_code>(std::move(self), std::nullopt, into);
}

template <class Result>
task<Result> client_core::run(std::shared_ptr<client_core> self, std::optional<request> owned,
                              exchange_target into) {
  // `self` (this) is held by the frame: the client may be destroyed while the exchange runs.
  (void)self;
  Result result{};
  std::error_code& ec = code_of(result);
  // The request and response worked on: the exchange's own, or the caller's (never changed: a redirect
  // goes on with a copy).
  const request* req = owned ? &*owned : into.req;
  response* res_ptr = into.res;
  if constexpr (std::is_same_v<Result, outcome>) res_ptr = &result.res;
  response& res = *res_ptr;
  // This task is the root of its own chain (http_client's async_run, or the pool's), so it may set the
  // chain's cancellation filter: until the request starts to go out, any cancellation type may stop it
  // (nothing was sent); see send_once for the switch to terminal-only. (Tasks never throw on
  // cancellation: we check the state ourselves, see cancel.hpp.)
  task_context& tc = co_await this_task;
  if (was_cancelled(tc.cancellation_state())) {
    counters.requests.add();
    counters.errors.add();
    res.clear();
    ec = asio::error::operation_aborted;
    co_return result;
  }
  tc.reset(asio::enable_total_cancellation());
  active_exchange in_flight(*this);
  const auto start = clock::now();
  const auto& ro = req->options();
  const auto total_deadline = deadline_after(ro.total_timeout.value_or(opts.timeouts.total));
  // A body produced by a source can be sent only once: such a request gets the 3xx itself.
  const bool follow = ro.follow_redirects.value_or(opts.redirect.follow) && req->body_replayable();
  const std::size_t max_redirects = ro.max_redirects.value_or(opts.redirect.max_redirects);

  transfer_info info;
  for (;;) {
    res.clear();  // (the caller's response keeps its storage)
    ec = co_await send_once(*req, total_deadline, follow, info, res);
    if (ec || !follow || !is_redirect(res.status()) || !res.headers().contains("Location")) break;
    if (info.redirects >= max_redirects) {
      ec = error::too_many_redirects;
      info.failure.phase = phase::redirect;
      break;
    }
    if (!owned) req = &owned.emplace(*req);  // the caller's request stays as it was
    if (auto e = follow_redirect(*owned, res)) {
      ec = e;
      info.failure.phase = phase::redirect;
      break;
    }
    ++info.redirects;
    counters.redirects.add();
    if (was_cancelled(tc.cancellation_state())) {
      ec = asio::error::operation_aborted;
      break;
    }
    tc.reset(asio::enable_total_cancellation());
  }

  finish(ec, *req, owned ? &*owned : nullptr, res, info, start);
  co_return result;
}

void client_core::finish(std::error_code& ec, const request& req, request* own, response& res,
                         transfer_info& info, clock::time_point start) {
  if (ec) {
    if (stopped_ && ec != error::pool_stopped) ec = asio::error::operation_aborted;
    std::exception_ptr thrown = std::move(res.info().callback_exception);
    res.clear();
    if (ec == error::callback_threw) res.info().callback_exception = std::move(thrown);
    // What request_error and describe() say: the request, the phase and the endpoint it failed at.
    failure_info& f = res.info().failure;
    f = std::move(info.failure);
    f.method = req.method();
    f.url = req.url().redacted();
    counters.errors.add();
    if (ec == condition::timeout) counters.timeouts.add();
  } else {
    info.reused_connection = res.info().reused_connection;
    info.alpn = res.info().alpn;
    info.bytes_received = res.info().bytes_received;
    info.elapsed = clock::now() - start;
    res.info() = info;
    // The exchange's own copy, done with: moved; the caller's: copied into the storage res kept.
    if (own != nullptr)
      res.set_url(std::move(*own).url());
    else
      res.set_url(req.url());
  }
  counters.requests.add();
}

namespace {

bool may_send_again(const exchange_outcome& r, int attempt, attempt_plan& plan) noexcept {
  // The server said it did not process the request (HTTP/2 REFUSED_STREAM, GOAWAY): any method, a few
  // times, each on a connection opened after the refusal.
  if (r.refused && plan.refusals_left > 0) {
    --plan.refusals_left;
    return true;
  }
  // The session proves the server never saw the request (HTTP/1: a reused connection that died before
  // a single response byte, most likely closed by the server while it sat idle). Retry once on a fresh
  // connection, and only when sending the request twice is harmless.
  return attempt == 0 && r.not_processed && !r.refused && plan.may_retry;
}

}  // namespace

task<std::error_code> client_core::send_once(const request& req, clock::time_point total_deadline,
                                             bool follow, transfer_info& info, response& res) {
  task_context& tc = co_await this_task;
  std::error_code ec;
  if (stopped_) ec = error::pool_stopped;
  if (!ec && req.url().empty()) ec = error::invalid_url;
  attempt_plan plan;
  if (!ec) ec = make_plan(opts, proxies, req, total_deadline, plan);
  if (ec) co_return ec;
  const auto& ro = req.options();
  bool allow_idle = true;
  for (int attempt = 0;; ++attempt) {
    // A file body is opened (and measured) for each attempt: a retry or a redirect reads it again.
    file_handle file;
    if (req.body_type() == request::body_kind::file) {
      if ((ec = file.open(req.body_file()))) co_return ec;
      plan.body.fd = file.fd;
      plan.body.length = plan.extras.body_length = file.size;
    }
    plan.extras.expect_continue =
        ro.expect_continue && !plan.body.empty() && !(plan.body.fd >= 0 && file.size == 0);
    // The lease gives the connection back on every path below, an exception's included.
    connection_pool::lease conn;
    if (!pool.try_acquire(plan.origin, allow_idle, conn)) {
      // No idle connection: one may be opened for this request. Refuse what no protocol could send first.
      if ((ec = check_head(req, plan))) co_return ec;
      connect_report report;
      ec = co_await from_awaitable(
          pool.acquire(plan.origin, allow_idle, plan.acquire_deadline, plan.acquire_error,
                       {&plan.rt, plan.connect_timeout, total_deadline, plan.offer}, conn, report));
      if (report.attempted) ++info.connects;
      if (ec) {
        // Waiting for a connection, or opening one (resolve, connect, proxy, TLS).
        info.failure.phase = report.failed != phase::none ? report.failed : phase::queue;
        info.failure.endpoint =
            report.failed != phase::none ? std::move(report.endpoint) : req.url().host_port();
        co_return ec;
      }
    }
    if ((ec = conn->prepare({req.method(), req.url(), req.headers(), req.body().size(), plan.extras})))
      co_return ec;  // nothing sent: conn stays usable
    if (conn.reused()) counters.connections_reused.add();
    body_consumer consumer(ro, plan.decompress, follow, opts.limits.max_decoded_bytes);
    plan.params.consumer = &consumer;
    std::exception_ptr source_threw;
    plan.body.thrown = &source_threw;
    // From here on bytes go out: only terminal cancellation (which closes the connection) applies. A
    // cancellation that arrived meanwhile still counts: nothing was sent yet.
    if (was_cancelled(tc.cancellation_state())) {
      ec = asio::error::operation_aborted;
      co_return ec;
    }
    tc.reset(asio::enable_terminal_cancellation());
    const exchange_outcome r = co_await conn->exchange(plan.body, plan.params, res);
    const bool reused = conn.reused();
    const tcp::endpoint peer = conn->peer();
    const std::string_view alpn = conn->alpn();
    conn.give_back();
    plan.body.thrown = nullptr;
    if (!r.ec) {
      res.info().reused_connection = reused;
      res.info().alpn = alpn;
      // RFC 9110 §15.2.2: a server must not switch to a protocol the request did not ask for in its
      // Upgrade field. (One that did ask gets the 101; the connection is retired either way.)
      if (res.status() == 101 && !req.headers().contains("Upgrade")) ec = error::unexpected_response;
      co_return ec;
    }
    if (r.ec == error::callback_threw) {
      ec = r.ec;
      exchange_failed(info, r, peer, plan.rt);
      res.info().callback_exception = consumer.thrown() ? consumer.thrown() : source_threw;
      co_return ec;
    }
    if (may_send_again(r, attempt, plan)) {
      ++info.retries;
      counters.retries.add();
      allow_idle = false;
      res.clear();
      if (was_cancelled(tc.cancellation_state())) {
        ec = asio::error::operation_aborted;
        co_return ec;
      }
      tc.reset(asio::enable_total_cancellation());
      continue;
    }
    ec = r.ec;
    exchange_failed(info, r, peer, plan.rt);
    co_return ec;
  }
}

}  // namespace sentinel::detail
