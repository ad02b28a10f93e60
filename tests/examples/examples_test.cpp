// The examples are programs users copy from: run them, and drive the embedded server like a client would.
#include <sentinel/http_client.hpp>

#include "support/certs.hpp"
#include "support/env.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <thread>

using namespace std::chrono_literals;
namespace support = sentinel::test::detail;

namespace {

struct run_result {
  int exit_code = -1;
  std::string output;
};

// Runs an example to completion (bounded), capturing stdout and stderr.
run_result run_example(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 60s) {
  const std::string dir = support::make_temp_dir("example");
  const std::string log = dir + "/out.txt";
  const pid_t pid = support::spawn(argv, log);
  run_result r;
  auto status = support::wait_exit(pid, timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    support::wait_exit(pid, 5s);
    r.output = support::read_file(log);
    support::remove_temp_dir(dir);
    FAIL(argv[0] << " did not finish within " << timeout.count() << " ms; output:\n" << r.output);
    return r;
  }
  r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  r.output = support::read_file(log);
  support::remove_temp_dir(dir);
  return r;
}

std::string example(const char* name) {
  return sentinel::test::required_env("SENTINEL_EXAMPLES_DIR") + "/" + name;
}

}  // namespace

TEST_CASE("thread_safety_demo: every request answered, nothing lost", "[examples]") {
  auto r = run_example({example("thread_safety_demo"), "--workers", "16", "--requests", "50"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("requests     800 (50 per worker)"));
  CHECK_THAT(r.output, Catch::Contains("successes    800"));
  CHECK_THAT(r.output, Catch::Contains("lost         0"));
  CHECK_THAT(r.output, Catch::Contains("result       OK"));
}

TEST_CASE("thread_safety_demo: a failing upstream makes it fail loudly", "[examples]") {
  sentinel::test::script_server server([](const sentinel::test::received_request&) {
    return sentinel::test::script_server::response(500, "no");
  });
  auto r = run_example(
      {example("thread_safety_demo"), "--workers", "2", "--requests", "3", "--url", server.url("/")});
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("result       FAILED"));
}

TEST_CASE("the small examples run", "[examples]") {
  for (const char* name : {"awaitable", "callback", "future", "deferred", "concurrent_requests"}) {
    auto r = run_example({example(name)}, 30s);
    INFO(name << ":\n" << r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("200") || Catch::Contains("ok 200"));
  }
}

TEST_CASE("embedded_server: handlers co_await upstream calls, directly and through the pool", "[examples]") {
  using namespace asio::experimental::awaitable_operators;
  sentinel::test::script_server upstream([](const sentinel::test::received_request& r) {
    return sentinel::test::script_server::response(200, "up" + r.target);
  });
  const std::string dir = support::make_temp_dir("embedded");
  const std::string log = dir + "/out.txt";
  const pid_t pid =
      support::spawn({example("embedded_server"), "--upstream", upstream.url("/"), "--workers", "3"}, log);
  // Wait (bounded) for the line that tells the port.
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (out.find("listening on ") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    out = support::read_file(log);
  }
  const auto at = out.find("http://127.0.0.1:");
  REQUIRE(at != std::string::npos);
  const std::string base = out.substr(at, out.find(' ', at) - at);

  asio::io_context ctx;
  sentinel::http_client client(ctx);
  auto drive = [&]() -> asio::awaitable<void> {
    // Concurrent requests on both paths.
    auto [a, b, c, d] = co_await (client.get(base + "/direct/one") && client.get(base + "/pool/two") &&
                                  client.get(base + "/direct/three") && client.get(base + "/pool/four"));
    CHECK(a.body() == "direct:200:up/one");
    CHECK(b.body() == "pool:200:up/two");
    CHECK(c.body() == "direct:200:up/three");
    CHECK(d.body() == "pool:200:up/four");
    for (int i = 0; i < 20; ++i) {
      auto r = co_await client.get(base + (i % 2 ? "/pool/n" : "/direct/n") + std::to_string(i));
      CHECK(r.status() == 200);
    }
    auto stats = co_await client.get(base + "/stats");
    CHECK_THAT(stats.body(), Catch::Contains("direct requests=12") && Catch::Contains("pool requests=12"));
    auto missing = co_await client.get(base + "/nope");
    CHECK(missing.status() == 404);
  };
  sentinel::test::run_until(ctx, drive(), 20s);
  CHECK(upstream.requests_received() == 24);

  ::kill(pid, SIGTERM);
  auto status = support::wait_exit(pid, 10s);
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK_THAT(support::read_file(log), Catch::Contains("stopped"));
  support::remove_temp_dir(dir);
}
