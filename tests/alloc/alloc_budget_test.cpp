// The allocation budget: how many heap allocations one warm request makes, through http_client and
// through client_pool, counted exactly (tests/support/alloc_counter.hpp replaces the whole malloc family,
// so operator new, Asio's aligned_alloc and every library below are seen, on every thread).
//
// Counts are deterministic where times are not, so they are asserted: a change that adds an allocation
// per request fails here. A change that removes some passes and should lower the budget (the test says
// so). The connections are in-memory pipes answered on the client's thread (support/memory_responder.hpp):
// no kernel, no server thread, nothing counted that is not the client's. The caller's copy of the request
// is counted apart and left out, as in bench/request_overhead (which reports the same figures).
#include <sentinel/client_pool.hpp>
#include <sentinel/http_client.hpp>

#include "support/alloc_counter.hpp"
#include "support/memory_responder.hpp"

#include <asio/bind_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>

namespace alloc = sentinel::test::alloc;

namespace {

// Allocations per warm request today (release and debugoptimized builds alike). Issue 31 drives them down;
// lower a budget when a change goes below it, never raise one without saying why in the commit.
// The exchange runs on task<T> (include/sentinel/detail/task.hpp), whose frames a thread recycles, so what
// is left is data: a new response's header storage (2), and on the pool path the task's state and the
// posts between threads.
constexpr double budget_client_sequential = 2;
constexpr double budget_client_in_flight = 3.1;  // 64 in flight: waits for a pooled connection add some
constexpr double budget_pool_sequential = 8;
// async_send(req, res): the same request sent again into the same response (no response to build)
constexpr double budget_client_reuse_sequential = 0;

constexpr int warm_up = 500;
constexpr int measured = 2000;

std::shared_ptr<const std::string> hello_reply() {
  return std::make_shared<const std::string>(
      "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!");  // bench/request_overhead's reply
}

// Keeps `depth` requests in flight until `total` have completed; each completion starts the next.
// `send(request, done)` starts one; the copy of `proto` each request needs is counted into `excluded`.
class chain {
 public:
  using send_fn = std::function<void(sentinel::request, std::function<void(bool ok)>)>;
  chain(asio::io_context& io, sentinel::request proto, send_fn send)
      : io_(io), proto_(std::move(proto)), send_(std::move(send)) {}

  // Runs `total` requests on the calling thread's io_context; the number that failed.
  int run(int total, int depth) {
    remaining_ = total;
    in_flight_ = 0;
    failed_ = 0;
    io_.restart();
    auto guard = asio::make_work_guard(io_);
    for (int i = 0; i < depth && remaining_ > 0; ++i)
      start_one();
    io_.run();
    return failed_;
  }
  alloc::counts excluded;

 private:
  void start_one() {
    --remaining_;
    ++in_flight_;
    const auto before = alloc::this_thread();
    sentinel::request req = proto_;
    excluded.allocations += (alloc::this_thread() - before).allocations;
    send_(std::move(req), [this](bool ok) {
      if (!ok) ++failed_;
      --in_flight_;
      if (remaining_ > 0) {
        start_one();
      } else if (in_flight_ == 0) {
        io_.stop();
      }
    });
  }

  asio::io_context& io_;
  sentinel::request proto_;
  send_fn send_;
  int remaining_ = 0;
  int in_flight_ = 0;
  int failed_ = 0;
};

bool is_hello(const std::error_code& ec, const sentinel::response& res) {
  return !ec && res.status() == 200 && res.body() == "Hello, World!";
}

// Allocations per request of `measured` warm requests, `depth` at a time; counted on this thread only, or
// on every thread (client_pool).
double per_request(chain& c, int depth, bool all_threads) {
  REQUIRE(c.run(warm_up, depth) == 0);
  c.excluded = {};
  alloc::count_this_thread(true);
  if (all_threads) alloc::count_all_threads(true);
  const auto a0 = all_threads ? alloc::all_threads() : alloc::this_thread();
  const int failed = c.run(measured, depth);
  const auto a1 = all_threads ? alloc::all_threads() : alloc::this_thread();
  alloc::count_all_threads(false);
  alloc::count_this_thread(false);
  REQUIRE(failed == 0);
  return static_cast<double>((a1 - a0).allocations - c.excluded.allocations) / measured;
}

// `budget` per request, plus 0.01 for work that recurs less often than per request (a buffer that grows
// now and then): 20 allocations in 2,000 requests, where one more per request would be 2,000.
void check_budget(double figure, double budget) {
  INFO("allocations per request: " << figure << ", budget " << budget);
  CHECK(figure <= budget + 0.01);
  if (figure < budget - 0.5) WARN("below the budget by " << budget - figure << ": lower the budget");
}

}  // namespace

TEST_CASE("the counter sees operator new, the malloc family and aligned_alloc", "[alloc]") {
  // The compiler may drop an allocation whose result goes nowhere: each one escapes first.
  const auto escape = [](void* p) {
    asm volatile("" : : "g"(p) : "memory");
    return p;
  };
  alloc::count_this_thread(true);
  const auto a0 = alloc::this_thread();
  delete static_cast<int*>(escape(new int(1)));
  std::free(escape(std::malloc(10)));
  std::free(escape(std::calloc(2, 8)));
  std::free(escape(std::aligned_alloc(64, 64)));
  void* p = escape(std::realloc(nullptr, 8));
  p = escape(std::realloc(p, 4096));
  std::free(p);
  const auto a = alloc::this_thread() - a0;
  alloc::count_this_thread(false);
  CHECK(a.allocations == 6);  // realloc of a block counts as a new allocation and a release
  CHECK(a.deallocations == 6);
}

TEST_CASE("allocation budget: http_client", "[alloc]") {
  asio::io_context io;
  sentinel::client_options o;
  o.pool.max_per_origin = 64;
  sentinel::http_client client(io, o);
  sentinel::test::use_memory_transport(client, hello_reply());
  chain c(io, sentinel::request("GET", "http://127.0.0.1:8080/hello"), [&](sentinel::request req, auto done) {
    client.async_send(std::move(req),
                      [done](std::error_code ec, sentinel::response res) { done(is_hello(ec, res)); });
  });
  SECTION("one request at a time") {
    check_budget(per_request(c, 1, false), budget_client_sequential);
  }
  SECTION("64 in flight") {
    check_budget(per_request(c, 64, false), budget_client_in_flight);
  }
}

TEST_CASE("allocation budget: a long URL costs no more than a short one", "[alloc]") {
  // Host and target longer than any small-string buffer: a copy of either would allocate.
  asio::io_context io;
  sentinel::http_client client(io);
  sentinel::test::use_memory_transport(client, hello_reply());
  chain c(io,
          sentinel::request("GET",
                            "http://service-0042.internal.example.com:8080/api/v1/users/12345?fields=name"),
          [&](sentinel::request req, auto done) {
            client.async_send(std::move(req), [done](std::error_code ec, sentinel::response res) {
              done(is_hello(ec, res));
            });
          });
  check_budget(per_request(c, 1, false), budget_client_sequential);
}

TEST_CASE("allocation budget: http_client sending one request again into one response", "[alloc]") {
  // The long URL checks that the response's URL storage is reused too (its copy would allocate).
  const std::string url =
      GENERATE(as<std::string>{}, "http://127.0.0.1:8080/hello",
               "http://service-0042.internal.example.com:8080/api/v1/users/12345?fields=name");
  INFO(url);
  asio::io_context io;
  sentinel::http_client client(io);
  sentinel::test::use_memory_transport(client, hello_reply());
  const sentinel::request proto("GET", url);
  sentinel::response res;
  chain c(io, sentinel::request(), [&](sentinel::request, auto done) {
    client.async_send(proto, res, [done, &res](std::error_code ec) { done(is_hello(ec, res)); });
  });
  check_budget(per_request(c, 1, false), budget_client_reuse_sequential);
  CHECK(res.url() == proto.url());
}

TEST_CASE("allocation budget: client_pool (caller, worker and completion threads)", "[alloc]") {
  asio::io_context io;  // declared first: the pool, destroyed first, is done with it by then
  sentinel::pool_options po;
  po.workers = 1;
  sentinel::client_pool pool(po);
  pool.async_run(
          [reply = hello_reply()](sentinel::worker& w) -> asio::awaitable<void> {
            sentinel::test::use_memory_transport(w.client(), reply);
            co_return;
          },
          asio::use_future)
      .get();
  chain c(io, sentinel::request("GET", "http://127.0.0.1:8080/hello"), [&](sentinel::request req, auto done) {
    pool.async_send(std::move(req),
                    asio::bind_executor(
                        io, [done](std::error_code ec, sentinel::response res) { done(is_hello(ec, res)); }));
  });
  check_budget(per_request(c, 1, true), budget_pool_sequential);
}
