// sentinel: the single-threaded HTTP/1.1 client.
#pragma once

#include <sentinel/config.hpp>
#include <sentinel/detail/handler.hpp>
#include <sentinel/detail/outcome.hpp>
#include <sentinel/detail/task.hpp>
#include <sentinel/detail/token_check.hpp>
#include <sentinel/error.hpp>
#include <sentinel/headers.hpp>
#include <sentinel/options.hpp>
#include <sentinel/request.hpp>
#include <sentinel/response.hpp>
#include <sentinel/stats.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace sentinel {

namespace detail {
class client_core;
struct client_access;
}  // namespace detail

/// An HTTP/1.1 client bound to one executor: its own connection pool (keep-alive per origin), DNS cache
/// and TLS context. The building block of client_pool's workers, and usable on its own inside any Asio
/// program (for example on a server's own io_context, with no extra threads).
///
/// @par Thread safety  None, by design: an http_client and everything it owns belong to its executor,
/// which must run on one thread (an io_context run by one thread, or a strand). Debug builds abort with
/// a clear message when it is used from another thread. To use HTTP from many threads, use client_pool.
///
/// @par Lifetime  Destroying the client closes its connections; exchanges still in flight complete with
/// an error (operation_aborted or pool_stopped), and their handlers still run.
///
/// @par Idle behaviour  A client that does not own its executor keeps no timers pending while no request
/// is in flight, so `io_context::run()` returns when the program's own work is done. Idle connections
/// are then checked for expiry when next used.
class http_client {
 public:
  using executor_type = asio::any_io_executor;

  /// Creates a client whose connections and timers live on `ex`.
  explicit http_client(executor_type ex, client_options options = {});
  /// Creates a client on `ctx`'s executor (an io_context, usually).
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
  explicit http_client(ExecutionContext& ctx, client_options options = {})
      : http_client(executor_type(ctx.get_executor()), std::move(options)) {}

  ~http_client();
  http_client(http_client&&) noexcept;
  http_client& operator=(http_client&&) noexcept;
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  executor_type get_executor() const noexcept;
  const client_options& options() const noexcept;

  /// Sends one request and reads its response (following redirects and retrying once on a stale pooled
  /// connection, as the options say).
  /**
   * @param req    Moved into the operation; never referenced after this call returns.
   * @param token  Any Asio completion token for `void(std::error_code, response)`: use_awaitable (the
   *               default: `co_await client.async_send(req)` throws request_error on error),
   *               experimental::as_tuple(use_awaitable), use_future, experimental::deferred, or a
   *               callback.
   * @par Completion  Never inside this call. Runs on the handler's associated executor if it has one,
   *               else on this client's executor. An HTTP status (404, 500) is not an error. On error the
   *               response is empty but for `info().failure` (method, URL, phase, endpoint: what
   *               request_error says) and, with error::callback_threw, `info().callback_exception`
   *               (what the request's callback threw).
   * @par Cancellation  `terminal`: at any point; the connection in use is closed, never reused.
   *               `total`: while waiting for a pooled connection, resolving or connecting (nothing was
   *               sent yet). After the request started to go out, `total` and `partial` are ignored: an
   *               HTTP/1 exchange cannot be abandoned without closing the connection.
   *               A cancelled operation completes with asio::error::operation_aborted.
   * @par Thread safety  Call only on this client's executor's thread.
   * @par Example
   * @code
   *   sentinel::request req("GET", "http://127.0.0.1:8080/hello");
   *   auto [ec, res] = co_await client.async_send(std::move(req),
   *                                               asio::experimental::as_tuple(asio::use_awaitable));
   * @endcode
   */
  template <class Token = asio::use_awaitable_t<executor_type>>
  requires(!std::is_same_v<std::decay_t<Token>, response>)  // (req, res) is the overload below
      auto async_send(request req, Token&& token = {}) {
    static_assert(detail::valid_token<Token, void(std::error_code, response)>,
                  "sentinel::http_client::async_send: the completion token must be an Asio token "
                  "(use_awaitable, use_future, deferred, ...) or a callback taking (std::error_code, "
                  "sentinel::response)");
    return detail::initiate_response<Token>(initiate_send{core_}, token, std::move(req));
  }

  /// Sends `req` and reads its response into `res`, reusing what `res` holds (its header, body and URL
  /// storage) instead of building a response: with a warm connection and a response of the same shape
  /// as the last one, a request costs no allocation of its own. `req` is read, never changed, so one
  /// request may be sent again and again without being rebuilt (a redirect works on a copy).
  /**
   * @param req    Referenced, not copied: must stay alive and unchanged until completion.
   * @param res    Cleared first, then filled; referenced until completion, and not to be touched before.
   * @param token  Any Asio completion token for `void(std::error_code)`; use_awaitable (the default) and
   *               use_future throw request_error on error.
   * @par Completion  As the overload above; on error `res` is empty but for `info().failure` (and
   *               `info().callback_exception`), as that overload's response is.
   * @par Cancellation  As the overload above.
   * @par Example
   * @code
   *   const sentinel::request req("GET", "http://127.0.0.1:8080/hello");
   *   sentinel::response res;
   *   for (int i = 0; i < 1000; ++i) {
   *     auto [ec] = co_await client.async_send(req, res, asio::experimental::as_tuple(asio::use_awaitable));
   *     if (!ec) consume(res.body());
   *   }
   * @endcode
   */
  template <class Token = asio::use_awaitable_t<executor_type>>
  auto async_send(const request& req, response& res, Token&& token = {}) {
    static_assert(detail::valid_token<Token, void(std::error_code)>,
                  "sentinel::http_client::async_send(req, res, token): the completion token must be an "
                  "Asio token (use_awaitable, use_future, deferred, ...) or a callback taking "
                  "(std::error_code)");
    return detail::initiate_status<Token>(initiate_send_into{core_}, token, &req, &res);
  }

  /// Refused at compile time: the overload above references its request until completion, and a
  /// temporary would be gone before then. Keep the request in a variable, or send it by value.
  template <class Token = asio::use_awaitable_t<executor_type>>
  void async_send(request&& req, response& res, Token&& token = {}) {
    static_assert(sizeof(Token) == 0,
                  "sentinel::http_client::async_send(req, res, token): req is referenced until the operation "
                  "completes, and a temporary request would be gone by then: keep it in a variable, or "
                  "send it by value with async_send(request, token)");
    (void)req, (void)res, (void)token;
  }

  /// Awaitable shortcuts: build the request, send it, throw request_error on error (or, when a
  /// callback of the request threw, rethrow that exception as it was thrown).
  /// Must be awaited from a coroutine running on this client's executor.
  asio::awaitable<response> get(std::string_view url, sentinel::headers fields = {});
  asio::awaitable<response> head(std::string_view url, sentinel::headers fields = {});
  asio::awaitable<response> post(std::string_view url, std::string body, sentinel::headers fields = {});
  asio::awaitable<response> put(std::string_view url, std::string body, sentinel::headers fields = {});
  asio::awaitable<response> del(std::string_view url, sentinel::headers fields = {});
  /// Sends `req`, throws request_error on error.
  asio::awaitable<response> send(request req);

  /// Counters and gauges. Safe to call from any thread (relaxed atomic reads).
  client_stats stats() const noexcept;

  /// Closes idle connections and fails future requests with pool_stopped (the destructor does this).
  void shutdown() noexcept;

 private:
  friend struct detail::client_access;  // the library's workers and its tests (src/client/client_access.hpp)

  struct initiate_send {
    std::shared_ptr<detail::client_core> core;
    template <class Handler>
    void operator()(Handler&& handler, request req) const {
      check_owner(*core);
      executor_type ex = core_executor(*core);
      detail::async_run(
          run_exchange(core, std::move(req)), ex,
          detail::outcome_handler<std::decay_t<Handler>, executor_type>(std::forward<Handler>(handler), ex));
    }
  };
  struct initiate_send_into {
    std::shared_ptr<detail::client_core> core;
    template <class Handler>
    void operator()(Handler&& handler, const request* req, response* res) const {
      check_owner(*core);
      executor_type ex = core_executor(*core);
      detail::async_run(run_exchange_into(core, {req, res}), ex,
                        detail::status_handler<std::decay_t<Handler>, executor_type>(
                            std::forward<Handler>(handler), ex, res));
    }
  };
  static executor_type core_executor(const detail::client_core& core) noexcept;
  static void check_owner(const detail::client_core& core);
  /// The exchange as a task (no frame of its own); it keeps `core` alive while it runs.
  static detail::task<detail::outcome> run_exchange(std::shared_ptr<detail::client_core> core, request req);
  /// The same into the caller's response: it completes with the code alone.
  static detail::task<std::error_code> run_exchange_into(std::shared_ptr<detail::client_core> core,
                                                         detail::exchange_target into);

  std::shared_ptr<detail::client_core> core_;
};

}  // namespace sentinel
