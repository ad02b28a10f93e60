// sentinel: http_client and its core: one request end to end (pool, connect, exchange, redirects, the
// stale-connection retry, deadlines). See docs/retry.md and docs/cancellation.md.
#include <sentinel/http_client.hpp>

#include "cancel.hpp"
#include "client_core.hpp"
#include "decoder.hpp"
#include "http1/serializer.hpp"

#include <asio/cancellation_type.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace sentinel {
namespace detail {
namespace {

constexpr auto never = clock::time_point::max();

clock::time_point after(std::chrono::milliseconds d) noexcept {
  return d.count() > 0 ? clock::now() + d : never;
}

// Errors that mean "the server closed or reset a connection we believed alive". Only these, on a reused
// connection, before any response byte, make a request eligible for the silent retry.
bool is_stale_error(const std::error_code& ec) noexcept {
  return ec == error::empty_reply || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::eof;
}

bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Turns `req` into the request for the redirect target (RFC 9110 §15.4), or fails.
std::error_code follow_redirect(request& req, const response& res) {
  const auto location = res.headers().get("Location");
  std::error_code ec;
  url next = req.url().resolve(location.value_or(std::string_view{}), ec);
  if (ec) return make_error_code(error::bad_redirect);
  const int status = res.status();
  const bool to_get = (status == 303 && req.method() != "HEAD") ||
                      ((status == 301 || status == 302) && req.method() == "POST");
  if (to_get) {
    // The body does not follow a method change, nor do the fields that described it.
    req.set_method("GET");
    req.clear_body();
    for (const char* name : {"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"})
      req.headers().erase(name);
  }
  if (next.origin() != req.url().origin()) {
    // Credentials are for the origin that asked for them, not for wherever it redirects us.
    for (const char* name : {"Authorization", "Cookie", "Proxy-Authorization", "Host"})
      req.headers().erase(name);
  }
  req.set_url(std::move(next));
  return {};
}

// "scheme://host:port" (what url::origin() returns) written into `buf`; into `fallback` when it does not
// fit (host names are at most 253 bytes, so only absurd URLs get there).
std::string_view origin_key(const url& u, std::array<char, 320>& buf, std::string& fallback) {
  const std::string_view scheme = u.is_https() ? "https://" : "http://";
  const std::string_view host = u.host();
  const std::size_t need = scheme.size() + host.size() + 2 + 1 + 5;
  if (need > buf.size()) {
    fallback = u.origin();
    return fallback;
  }
  char* p = buf.data();
  auto put = [&p](std::string_view s) { p = std::copy(s.begin(), s.end(), p); };
  put(scheme);
  if (u.host_is_ipv6()) *p++ = '[';
  put(host);
  if (u.host_is_ipv6()) *p++ = ']';
  *p++ = ':';
  p = std::to_chars(p, buf.data() + buf.size(), u.port()).ptr;
  return std::string_view(buf.data(), static_cast<std::size_t>(p - buf.data()));
}

// A request body file, open for one attempt.
struct file_handle {
  int fd = -1;
  std::uint64_t size = 0;
  file_handle() = default;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;
  ~file_handle() {
    if (fd >= 0) ::close(fd);
  }
  std::error_code open(const std::string& path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    // std::system_category, so callers can compare with std::errc (Asio's own category does not map).
    if (fd < 0) return {errno, std::system_category()};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {errno, std::system_category()};
    if (!S_ISREG(st.st_mode)) return make_error_code(error::invalid_request);
    size = static_cast<std::uint64_t>(st.st_size);
    return {};
  }
};

// The response_consumer of one exchange: decodes the content when asked to, delivers the body to the
// request's on_body callback or into response::body(), and swallows the body of a redirect that will be
// followed (users see only the final response).
class body_consumer final : public response_consumer {
 public:
  body_consumer(const request_options& ro, bool decompress, bool follow_redirects, std::size_t max_decoded)
      : ro_(ro), decompress_(decompress), follow_(follow_redirects), max_decoded_(max_decoded) {}

  std::error_code on_head(response& res) override {
    res_ = &res;
    discard_ = follow_ && is_redirect(res.status()) && res.headers().contains("Location");
    if (discard_) return {};
    decoder_.reset();
    if (decompress_) {
      if (auto ce = res.headers().get("Content-Encoding")) {
        if (auto ec = decoder_.init(*ce)) return ec;
        if (decoder_.active()) {
          // The fields now describe the decoded body the caller gets.
          res.headers().erase("Content-Encoding");
          res.headers().erase("Content-Length");
        }
      }
    }
    if (!decoder_.active() && !ro_.on_body) {
      if (auto cl = res.headers().get("Content-Length")) {
        std::uint64_t n = 0;
        std::from_chars(cl->data(), cl->data() + cl->size(), n);
        res.body().reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, 64u << 20)));
      }
    }
    if (ro_.on_head) return call_user([&] { return ro_.on_head(res); });
    return {};
  }

  std::error_code on_body(std::string_view data) override {
    if (discard_) return {};
    if (!decoder_.active()) return deliver(data);
    auto sink = [this](std::string_view d) { return deliver(d); };
    return decoder_.write(data, sink);
  }

  std::error_code on_end(response&) override {
    if (discard_ || !decoder_.active()) return {};
    auto sink = [this](std::string_view d) { return deliver(d); };
    return decoder_.finish(sink);
  }

  /// What on_head or on_body threw, if one did.
  std::exception_ptr thrown() const noexcept { return thrown_; }

 private:
  std::error_code deliver(std::string_view d) {
    if (decoder_.active()) {
      decoded_ += d.size();
      if (max_decoded_ != 0 && decoded_ > max_decoded_) return make_error_code(error::decoded_too_large);
    }
    if (ro_.on_body) return call_user([&] { return ro_.on_body(d); });
    res_->body().append(d);
    return {};
  }

  // The user's callbacks may throw: the exception is kept for the caller and the exchange ends with a
  // code, so nothing unwinds through the parser, the decoder or the connection's bookkeeping.
  template <class F>
  std::error_code call_user(F&& f) {
    try {
      if (f()) return {};
      return make_error_code(error::aborted_by_callback);
    } catch (...) {
      thrown_ = std::current_exception();
      return make_error_code(error::callback_threw);
    }
  }

  const request_options& ro_;
  bool decompress_, follow_;
  std::size_t max_decoded_;
  response* res_ = nullptr;
  bool discard_ = false;
  std::uint64_t decoded_ = 0;
  content_decoder decoder_;
  std::exception_ptr thrown_;
};

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

}  // namespace

client_stats client_counters::snapshot() const noexcept {
  client_stats s;
  s.requests = requests.get();
  s.errors = errors.get();
  s.timeouts = timeouts.get();
  s.retries = retries.get();
  s.redirects = redirects.get();
  s.connections_opened = connections_opened.get();
  s.connections_reused = connections_reused.get();
  s.tls_handshakes = tls_handshakes.get();
  s.tls_resumed = tls_resumed.get();
  s.bytes_sent = bytes_sent.get();
  s.bytes_received = bytes_received.get();
  s.open_connections = open_connections.get();
  s.idle_connections = idle_connections.get();
  return s;
}

client_core::client_core(asio::any_io_executor executor, client_options options)
    : ex(std::move(executor)),
      opts(std::move(options)),
      dns(ex),
      proxies(opts.proxy),
      pool(*this, opts.pool) {
  // The shared read buffer holds a maximal unfinished head plus a generous read: 64 KiB reads keep large
  // bodies cheap (a 512-byte read buffer made Beast 10x slower on 1 MiB bodies).
  rbuf_cap_ = opts.limits.max_head_bytes + 64 * 1024;
  rbuf_.reset(new char[rbuf_cap_]);  // not value-initialized: untouched pages cost no memory
}

client_core::~client_core() {
  pool.shutdown();
}

tls_context& client_core::tls() {
  if (!tls_) tls_ = std::make_unique<tls_context>(opts.tls);
  return *tls_;
}

void client_core::shutdown() noexcept {
  stopped_ = true;
  pool.shutdown();
}

asio::awaitable<outcome> client_core::exchange(std::shared_ptr<client_core> self, request req) {
  // `self` (this) is held by the frame: the client may be destroyed while the exchange runs.
  (void)self;
  // This coroutine is the top of its own co_spawn'ed thread (run_exchange, worker_exchange), so it may set
  // the thread's cancellation behaviour: no exceptions (we check the state ourselves, see cancel.hpp),
  // and until the request starts to go out, any cancellation type may stop it (nothing was sent); see
  // send_once for the switch to terminal-only.
  co_await asio::this_coro::throw_if_cancelled(false);
  if (was_cancelled(co_await asio::this_coro::cancellation_state)) {
    counters.requests.add();
    counters.errors.add();
    co_return outcome(asio::error::operation_aborted, response());
  }
  co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  active_exchange in_flight(*this);
  const auto start = clock::now();
  const auto& ro = req.options();
  const auto total_deadline = after(ro.total_timeout.value_or(opts.timeouts.total));
  // A body produced by a source can be sent only once: such a request gets the 3xx itself.
  const bool follow = ro.follow_redirects.value_or(opts.redirect.follow) && req.body_replayable();
  const std::size_t max_redirects = ro.max_redirects.value_or(opts.redirect.max_redirects);

  outcome result;
  transfer_info info;
  for (;;) {
    outcome o = co_await send_once(req, total_deadline, follow, info);
    if (o.ec || !follow || !is_redirect(o.res.status()) || !o.res.headers().contains("Location")) {
      result = std::move(o);
      break;
    }
    if (info.redirects >= max_redirects) {
      result.ec = error::too_many_redirects;
      break;
    }
    if (auto ec = follow_redirect(req, o.res)) {
      result.ec = ec;
      break;
    }
    ++info.redirects;
    counters.redirects.add();
    if (was_cancelled(co_await asio::this_coro::cancellation_state)) {
      result.ec = asio::error::operation_aborted;
      break;
    }
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
  }

  if (result.ec) {
    if (stopped_ && result.ec != error::pool_stopped) result.ec = asio::error::operation_aborted;
    std::exception_ptr thrown = std::move(result.res.info().callback_exception);
    result.res = response();
    if (result.ec == error::callback_threw) result.res.info().callback_exception = std::move(thrown);
    counters.errors.add();
    if (result.ec == condition::timeout) counters.timeouts.add();
  } else {
    const bool reused = result.res.info().reused_connection;
    const std::size_t bytes = result.res.info().bytes_received;
    info.reused_connection = reused;
    info.bytes_received = bytes;
    info.elapsed = clock::now() - start;
    result.res.info() = info;
    result.res.set_url(req.url());
  }
  counters.requests.add();
  co_return result;
}

void client_core::exchange_started() noexcept {
  ++active_;
}

void client_core::exchange_finished() noexcept {
  if (--active_ == 0 && !background_timers_) pool.quiesce();
}

asio::awaitable<outcome> client_core::send_once(request& req, clock::time_point total_deadline, bool follow,
                                                transfer_info& info) {
  outcome o;
  if (stopped_) {
    o.ec = error::pool_stopped;
    co_return o;
  }
  if (req.url().empty()) {
    o.ec = error::invalid_url;
    co_return o;
  }
  const auto& ro = req.options();
  const auto& to = opts.timeouts;
  exchange_params params;
  params.kind = req.method() == "HEAD"      ? http1::request_kind::head
                : req.method() == "CONNECT" ? http1::request_kind::connect
                                            : http1::request_kind::normal;
  params.total_deadline = total_deadline;
  params.response_head_timeout = ro.response_head_timeout.value_or(to.response_head);
  params.idle_read_timeout = ro.idle_read_timeout.value_or(to.idle_read);
  // A body streamed to on_body does not accumulate: the default size limit is for memory, so it applies
  // only when the request sets one.
  params.max_body_bytes = ro.max_body_bytes.value_or(ro.on_body ? 0 : opts.limits.max_body_bytes);
  const auto connect_timeout = ro.connect_timeout.value_or(to.connect);
  const auto acquire_deadline =
      std::min(after(ro.pool_acquire_timeout.value_or(to.pool_acquire)), total_deadline);
  const error acquire_error =
      acquire_deadline == total_deadline ? error::request_timeout : error::pool_timeout;
  const bool may_retry = opts.retry.retry_stale &&
                         (req.is_idempotent() || ro.retryable || req.headers().contains("Idempotency-Key")) &&
                         req.body_replayable();
  http1::head_extras extras;
  extras.user_agent = opts.user_agent;
  const bool decompress =
      ro.decompress.value_or(opts.decompress) && params.kind == http1::request_kind::normal;
  if (decompress) extras.accept_encoding = supported_accept_encoding();

  outgoing_body body;
  body.expect_continue = ro.expect_continue;
  body.continue_timeout = to.expect_continue;
  if (req.body_type() == request::body_kind::buffer) {
    body.data = req.body();
  } else if (req.body_type() == request::body_kind::source) {
    body.source = req.body_source();
    body.length = req.body_source_length();
    body.chunked = !body.length;
    extras.body_length = body.length;
    extras.chunked = body.chunked;
  }

  // The route: direct, through a forward proxy (http://, absolute-form requests, connections to the proxy
  // shared by every target), or through a CONNECT tunnel (https://, one tunnel per target).
  std::error_code proxy_ec;
  const proxy_endpoint* proxy = proxies.for_target(req.url(), proxy_ec);
  if (proxy_ec) {
    o.ec = proxy_ec;
    co_return o;
  }
  route rt{&req.url(), proxy ? &proxy->address : nullptr, proxy != nullptr && req.url().is_https(), {}};
  std::string proxied_key;
  if (proxy != nullptr) {
    rt.proxy_authorization = proxy->authorization;
    if (rt.tunnel) {
      proxied_key = req.url().origin() + " via " + proxy->key;
    } else {
      proxied_key = proxy->key;
      extras.absolute_form = true;
      extras.proxy_authorization = proxy->authorization;
    }
  }
  // The pool key of a direct route, built in the frame: no allocation per request.
  std::array<char, 320> key_buf;
  const std::string_view origin =
      proxy != nullptr ? std::string_view(proxied_key) : origin_key(req.url(), key_buf, proxied_key);
  bool allow_idle = true;
  for (int attempt = 0;; ++attempt) {
    // A file body is opened (and measured) for each attempt: a retry or a redirect reads it again.
    file_handle file;
    if (req.body_type() == request::body_kind::file) {
      if (auto ec = file.open(req.body_file())) {
        o.ec = ec;
        co_return o;
      }
      body.fd = file.fd;
      body.length = file.size;
      extras.body_length = file.size;
    }
    extras.expect_continue = ro.expect_continue && !body.empty() && !(body.fd >= 0 && file.size == 0);
    // The lease gives the connection back on every path below, an exception's included.
    connection_pool::lease conn;
    if (!pool.try_acquire(origin, allow_idle, conn)) {
      if (auto ec = co_await pool.acquire(origin, allow_idle, acquire_deadline, acquire_error, conn)) {
        o.ec = ec;
        co_return o;
      }
    }
    auto& head = conn->write_buffer();
    head.clear();
    if (auto ec = http1::serialize_head(req, extras, head)) {
      o.ec = ec;  // nothing was sent: a pooled connection stays usable
      co_return o;
    }
    if (conn.reused()) {
      counters.connections_reused.add();
    } else {
      ++info.connects;
      if (auto ec = co_await conn->open(rt, connect_timeout, total_deadline)) {
        o.ec = ec;
        co_return o;
      }
    }
    body_consumer consumer(ro, decompress, follow, opts.limits.max_decoded_bytes);
    params.consumer = &consumer;
    std::exception_ptr source_threw;
    body.thrown = &source_threw;
    // From here on bytes go out: only terminal cancellation (which closes the connection) applies. A
    // cancellation that arrived meanwhile still counts: nothing was sent yet.
    if (was_cancelled(co_await asio::this_coro::cancellation_state)) {
      o.ec = asio::error::operation_aborted;
      co_return o;
    }
    co_await asio::this_coro::reset_cancellation_state(asio::enable_terminal_cancellation());
    const exchange_outcome r = co_await conn->exchange(head, body, params, o.res);
    const bool reused = conn.reused();
    conn.give_back();
    if (!r.ec) {
      o.res.info().reused_connection = reused;
      co_return o;
    }
    if (r.ec == error::callback_threw) {
      o.ec = r.ec;
      o.res.info().callback_exception = consumer.thrown() ? consumer.thrown() : source_threw;
      co_return o;
    }
    // A reused connection that died before a single response byte: the server most likely closed it
    // while it sat idle, and never saw the request. Retry once on a fresh connection, and only when
    // sending the request twice is harmless. A fresh connection's failure is real: never retried.
    if (attempt == 0 && reused && r.bytes_received == 0 && may_retry && is_stale_error(r.ec)) {
      ++info.retries;
      counters.retries.add();
      allow_idle = false;
      o.res = response();
      if (was_cancelled(co_await asio::this_coro::cancellation_state)) {
        o.ec = asio::error::operation_aborted;
        co_return o;
      }
      co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
      continue;
    }
    o.ec = r.ec;
    co_return o;
  }
}

void check_owner(const client_core& core) {
  core.owner.check("sentinel::http_client");
}

asio::awaitable<outcome> run_exchange(std::shared_ptr<client_core> core, request req) {
  // Not a coroutine itself (no frame of its own): it hands back the exchange's awaitable.
  client_core* c = core.get();
  return c->exchange(std::move(core), std::move(req));
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

client_stats http_client::stats() const noexcept {
  return core_->counters.snapshot();
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
    throw std::system_error(ec);
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
  requests += o.requests;
  errors += o.errors;
  timeouts += o.timeouts;
  retries += o.retries;
  redirects += o.redirects;
  connections_opened += o.connections_opened;
  connections_reused += o.connections_reused;
  tls_handshakes += o.tls_handshakes;
  tls_resumed += o.tls_resumed;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  open_connections += o.open_connections;
  idle_connections += o.idle_connections;
  return *this;
}

}  // namespace sentinel
