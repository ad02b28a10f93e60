// The forms the README and the doc blocks show, written as a user writes them (braced header lists
// inside co_await, the fluent request, the default completion token), compiled by both compilers and
// run against the in-process server so that each form is shown to send what it says.
//
// g++ 12 rejected the first two with "array used as initializer" while headers took an
// initializer_list (docs/architecture.md, "Toolchain"); this file is what keeps them compiling.
#include <sentinel/sentinel.hpp>

#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

using sentinel::test::received_request;
using sentinel::test::script_server;

// Answers with the request's X-A, X-B and Accept values, so a test sees which fields arrived.
script_server echo_server() {
  return script_server([](const received_request& r) {
    const std::string body = std::string(r.header("X-A")) + "|" + std::string(r.header("X-B")) + "|" +
                             std::string(r.header("Accept")) + "|" + r.method;
    return script_server::response(200, body);
  });
}

sentinel::pool_options workers(std::size_t n) {
  sentinel::pool_options o;
  o.workers = n;
  return o;
}

}  // namespace

TEST_CASE("forms: a braced header list inside co_await compiles and is sent", "[forms]") {
  auto server = echo_server();
  asio::io_context ctx;
  sentinel::http_client c(ctx);
  const std::string url = server.url("/x");
  const auto bodies = sentinel::test::run_until(ctx, [&]() -> asio::awaitable<std::string> {
    auto one = co_await c.get(url, {{"Accept", "text/plain"}});
    auto two = co_await c.get(url, {{"X-A", "1"}, {"X-B", "2"}});
    auto posted = co_await c.post(url, "data", {{"X-A", "p"}});
    auto sent = co_await c.async_send(sentinel::request("GET", url, {{"X-A", "3"}}), asio::use_awaitable);
    co_return one.body() + "\n" + two.body() + "\n" + posted.body() + "\n" + sent.body();
  }());
  CHECK(bodies == "||text/plain|GET\n1|2||GET\np|||POST\n3|||GET");
}

TEST_CASE("forms: the fluent request adds each field in order", "[forms]") {
  auto server = echo_server();
  asio::io_context ctx;
  sentinel::http_client c(ctx);
  const std::string url = server.url("/x");
  const auto body = sentinel::test::run_until(ctx, [&]() -> asio::awaitable<std::string> {
    auto res = co_await c.async_send(sentinel::request("GET", url).header("X-A", "1").header("X-B", "2"),
                                     asio::use_awaitable);
    co_return res.body();
  }());
  CHECK(body == "1|2||GET");

  sentinel::request req("PUT", url);
  req.header("X-A", "a").header("X-A", "b");  // lvalue form: returns the same request
  REQUIRE(req.headers().count("X-A") == 2);
  CHECK(req.headers()[0].value == "a");
  CHECK(req.headers()[1].value == "b");
}

TEST_CASE("forms: headers take up to eight braced fields, kept in order", "[forms]") {
  const sentinel::headers h{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"},
                            {"E", "5"}, {"F", "6"}, {"G", "7"}, {"A", "8"}};
  REQUIRE(h.size() == 8);
  CHECK(h[7].name == "A");
  CHECK(h.get_all("a") == std::vector<std::string_view>{"1", "8"});
  const sentinel::headers one = {{"Accept", "*/*"}};
  CHECK(one.value_or("accept", "") == "*/*");
}

TEST_CASE("forms: the default completion token is use_awaitable", "[forms]") {
  auto server = echo_server();
  // The context outlives the pool: run_until() returns when the coroutine is done, possibly before the
  // pool's last bookkeeping for it ran there, and a context must not die under the pool's operations.
  asio::io_context ctx;
  sentinel::client_pool pool(workers(2));
  const std::string url = server.url("/x");
  const auto body = sentinel::test::run_until(ctx, [&]() -> asio::awaitable<std::string> {
    sentinel::response a = co_await pool.async_send(sentinel::request("GET", url).header("X-A", "d"));
    // A capturing lambda is named before co_await: g++ 12 destroys one written inside the co_await
    // operand twice (docs/architecture.md, "Toolchain").
    auto task = [url](sentinel::worker& w) -> asio::awaitable<int> {
      sentinel::response r = co_await w.client().async_send(sentinel::request("GET", url));
      co_return r.status();
    };
    int status = co_await pool.async_run(std::move(task));
    co_await pool.async_run([](sentinel::worker&) -> asio::awaitable<void> { co_return; });
    co_return a.body() + "|" + std::to_string(status);
  }());
  CHECK(body == "d|||GET|200");
}

TEST_CASE("forms: the default token throws std::system_error with the error's code", "[forms]") {
  asio::io_context ctx;
  sentinel::client_pool pool(workers(1));
  pool.stop();
  const auto code = sentinel::test::run_until(ctx, [&]() -> asio::awaitable<std::error_code> {
    try {
      co_await pool.async_send(sentinel::request("GET", "http://127.0.0.1:9/"));
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code();
  }());
  CHECK(code == sentinel::error::pool_stopped);
}
