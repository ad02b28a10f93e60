// client_pool across threads: affinity, completion executors, every token, cancellation, scaling.
// This executable also runs under ThreadSanitizer in CI (.ci/run).
#include <sentinel/client_pool.hpp>

#include "support/client_helpers.hpp"
#include "support/env.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"
#include "threads/threads_support.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using sentinel::client_pool;
using sentinel::error;
using sentinel::pool_options;
using sentinel::request;
using sentinel::response;
using sentinel::worker;
using sentinel::test::latch;
using sentinel::test::received_request;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::step;
using sentinel::test::use_tuple;
using sentinel::test::with_workers;

namespace {

script_server echo_server() {
  return script_server([](const received_request& r) { return script_server::response(200, r.target); });
}

}  // namespace

TEST_CASE("a task runs wholly on one worker thread", "[threads]") {
  asio::io_context caller;  // declared first: it outlives the pool (see client_pool's lifetime note)
  client_pool pool(with_workers(4));
  const auto caller_thread = std::this_thread::get_id();
  constexpr int tasks = 200;
  std::vector<std::vector<std::thread::id>> seen(tasks);
  std::vector<std::size_t> worker_of(tasks);
  auto all = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < tasks; ++i) {
      // Every step of the task records the thread it resumed on.
      co_await pool.async_run(
          [&seen, &worker_of, i](worker& w) -> asio::awaitable<void> {
            auto& mine = seen[i];
            worker_of[i] = w.id();
            mine.push_back(std::this_thread::get_id());
            asio::steady_timer t(w.get_executor(), 1ms);
            co_await t.async_wait(asio::use_awaitable);
            mine.push_back(std::this_thread::get_id());
            co_await asio::post(w.get_executor(), asio::use_awaitable);
            mine.push_back(std::this_thread::get_id());
            CHECK(w.running_in_this_thread());
            mine.push_back(std::this_thread::get_id());
          },
          asio::use_awaitable);
      CHECK(std::this_thread::get_id() == caller_thread);  // and the caller resumed at home
    }
  };
  run_until(caller, all(), 30s);
  std::map<std::size_t, std::set<std::thread::id>> threads_of_worker;
  for (int i = 0; i < tasks; ++i) {
    REQUIRE(seen[i].size() == 4);
    for (auto id : seen[i]) {
      CHECK(id == seen[i][0]);
      CHECK(id != caller_thread);
    }
    threads_of_worker[worker_of[i]].insert(seen[i][0]);
  }
  // Four workers, each one thread, and the tasks spread evenly (round robin from one thread).
  CHECK(threads_of_worker.size() == 4);
  for (auto& [id, threads] : threads_of_worker)
    CHECK(threads.size() == 1);
  const auto st = pool.stats();
  REQUIRE(st.workers.size() == 4);
  for (const auto& w : st.workers)
    CHECK(w.tasks == tasks / 4);
}

TEST_CASE("co_await from another io_context resumes on that io_context's thread", "[threads]") {
  auto server = echo_server();
  asio::io_context caller;
  client_pool pool(with_workers(3));
  std::thread::id caller_thread;
  std::atomic<int> ok{0};
  auto coro = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 50; ++i) {
      request req("GET", server.url("/r" + std::to_string(i)));
      response res = co_await pool.async_send(std::move(req), asio::use_awaitable);
      CHECK(std::this_thread::get_id() == caller_thread);
      CHECK(res.body() == "/r" + std::to_string(i));
      ++ok;
    }
  };
  std::thread t([&] {
    caller_thread = std::this_thread::get_id();
    asio::co_spawn(caller, coro(), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    caller.run();  // returns only when the coroutine is done: the pool holds work on this context
  });
  t.join();
  CHECK(ok == 50);
}

TEST_CASE("every completion token through the pool", "[threads]") {
  auto server = echo_server();
  client_pool pool(with_workers(2));

  SECTION("callback bound to the caller's io_context; run() waits for it") {
    asio::io_context caller;
    std::thread::id ran_on;
    std::error_code got;
    pool.async_send(request("GET", server.url("/cb")),
                    asio::bind_executor(caller, [&](std::error_code ec, response) {
                      got = ec;
                      ran_on = std::this_thread::get_id();
                    }));
    caller.run();  // no work guard of our own: the pool's keeps run() alive until the callback ran
    CHECK_FALSE(got);
    CHECK(ran_on == std::this_thread::get_id());
  }
  SECTION("unbound callback runs on the pool's completion thread, never on a worker") {
    latch done(5);
    std::mutex m;
    std::thread::id ran_on;
    std::set<std::thread::id> workers;
    for (int i = 0; i < 4; ++i) {
      pool.async_run(
          [](worker&) -> asio::awaitable<std::thread::id> { co_return std::this_thread::get_id(); },
          [&](std::exception_ptr, std::thread::id id) {
            std::lock_guard l(m);
            workers.insert(id);
            done.count_down();
          });
    }
    pool.async_send(request("GET", server.url("/cb")), [&](std::error_code ec, response) {
      std::lock_guard l(m);
      CHECK_FALSE(ec);
      ran_on = std::this_thread::get_id();
      done.count_down();
    });
    REQUIRE(done.wait_for(10s));
    std::lock_guard l(m);
    CHECK(ran_on != std::this_thread::get_id());
    CHECK(workers.size() == 2);
    CHECK(workers.count(ran_on) == 0);
  }
  SECTION("use_future") {
    auto fut = pool.async_send(request("GET", server.url("/fut")), asio::use_future);
    REQUIRE(fut.wait_for(10s) == std::future_status::ready);
    CHECK(fut.get().body() == "/fut");
    auto fut2 =
        pool.async_run([](worker& w) -> asio::awaitable<std::size_t> { co_return w.id(); }, asio::use_future);
    REQUIRE(fut2.wait_for(10s) == std::future_status::ready);
    CHECK(fut2.get() >= 1);
  }
  SECTION("deferred runs nothing until launched") {
    asio::io_context caller;
    auto op = pool.async_send(request("GET", server.url("/def")), asio::experimental::deferred);
    std::this_thread::sleep_for(50ms);
    CHECK(server.requests_received() == 0);
    auto res = run_until(caller, [&]() -> asio::awaitable<response> {
      co_return co_await std::move(op)(asio::use_awaitable);
    }());
    CHECK(res.body() == "/def");
    caller.run();  // let the pool release its work on `caller` before `caller` is destroyed
  }
  SECTION("a task's exception reaches the caller") {
    asio::io_context caller;
    CHECK_THROWS_WITH(run_until(caller, pool.async_run(
                                            [](worker&) -> asio::awaitable<int> {
                                              throw std::runtime_error("boom");
                                              co_return 1;
                                            },
                                            asio::use_awaitable)),
                      "boom");
    caller.run();
  }
}

TEST_CASE("cancellation is forwarded to the worker by a post", "[threads]") {
  using namespace asio::experimental::awaitable_operators;
  script_server server(
      {{step::expect_request(), step::stall_forever()}},
      {step::expect_request(), step::send(script_server::response(200, "after")), step::wait_for_close()});
  script_server stall({{step::expect_request(), step::stall_forever()}});
  // One context per phase, all declared before the pool so they outlive it: the pool may release its
  // work on a context a moment after the handler ran, which stops a context that has nothing else to
  // do (Asio's rule); a fresh context per phase keeps the phases independent.
  asio::io_context raced_ctx, signal_ctx, after_ctx;
  client_pool pool(with_workers(1));

  // awaitable_operators: the timer wins, the request is cancelled across threads.
  auto raced = run_until(raced_ctx, [&]() -> asio::awaitable<std::size_t> {
    asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
    request req("GET", server.url("/stall"));
    auto r = co_await (pool.async_send(std::move(req), use_tuple) || t.async_wait(use_tuple));
    co_return r.index();
  }());
  CHECK(raced == 1);

  // An explicit signal: the operation completes with operation_aborted, on the caller's thread.
  asio::cancellation_signal sig;
  std::error_code got;
  bool called = false;
  pool.async_send(request("GET", stall.url("/")),
                  asio::bind_cancellation_slot(
                      sig.slot(), asio::bind_executor(signal_ctx, [&](std::error_code ec, response) {
                        got = ec;
                        called = true;
                      })));
  asio::steady_timer t(signal_ctx, 100ms);
  t.async_wait([&](std::error_code) { sig.emit(asio::cancellation_type::terminal); });
  signal_ctx.run_for(10s);
  CHECK(called);
  CHECK(got == asio::error::operation_aborted);

  // The worker and its client are healthy afterwards.
  auto res = run_until(after_ctx, [&]() -> asio::awaitable<response> {
    request req("GET", server.url("/again"));
    co_return co_await pool.async_send(std::move(req), asio::use_awaitable);
  }());
  CHECK(res.body() == "after");
  const auto st = pool.stats();
  CHECK(st.total.errors == 2);
  CHECK(st.workers[0].tasks_in_flight == 0);
}

TEST_CASE("scaling under load loses nothing and completes nothing twice", "[threads]") {
  auto server = echo_server();
  pool_options opts = with_workers(2);
  client_pool pool(opts);
  constexpr int total = 4000;
  std::vector<std::atomic<int>> completions(total);
  std::atomic<int> ok{0}, failed{0};
  latch done(total);
  std::atomic<bool> submitting{true};

  std::thread submitter([&] {
    for (int i = 0; i < total; ++i) {
      if (i % 2 == 0) {
        pool.async_run(
            [i](worker& w) -> asio::awaitable<int> {
              asio::steady_timer t(w.get_executor(), std::chrono::microseconds(200));
              co_await t.async_wait(asio::use_awaitable);
              co_return i;
            },
            [&, i](std::exception_ptr e, int v) {
              completions[i].fetch_add(1);
              (e || v != i ? failed : ok).fetch_add(1);
              done.count_down();
            });
      } else {
        pool.async_send(request("GET", server.url("/" + std::to_string(i))),
                        [&, i](std::error_code ec, response res) {
                          completions[i].fetch_add(1);
                          if (ec && failed.load() < 3) UNSCOPED_INFO("send " << i << ": " << ec.message());
                          (ec || res.body() != "/" + std::to_string(i) ? failed : ok).fetch_add(1);
                          done.count_down();
                        });
      }
    }
    submitting = false;
  });
  // Meanwhile: scale up and down repeatedly.
  int rounds = 0;
  while (submitting || rounds < 10) {
    pool.scale_up(3);
    std::this_thread::sleep_for(2ms);
    pool.scale_down(2);
    std::this_thread::sleep_for(1ms);
    pool.scale_down(2);
    ++rounds;
    if (rounds > 500) break;
  }
  submitter.join();
  REQUIRE(done.wait_for(60s));
  CHECK(ok == total);
  CHECK(failed == 0);
  for (int i = 0; i < total; ++i)
    REQUIRE(completions[i].load() == 1);
  CHECK(pool.size() >= 1);
  const auto st = pool.stats();
  CHECK(st.tasks == static_cast<std::uint64_t>(total));
  CHECK(st.total.requests == static_cast<std::uint64_t>(total / 2));
}

TEST_CASE("scale_down drains in-flight tasks; stop() then refuses new work", "[threads]") {
  client_pool pool(with_workers(4));
  CHECK(pool.size() == 4);
  std::atomic<int> finished{0};
  latch started(8);
  std::vector<std::future<int>> futs;
  for (int i = 0; i < 8; ++i) {
    futs.push_back(pool.async_run(
        [&](worker& w) -> asio::awaitable<int> {
          started.count_down();
          asio::steady_timer t(w.get_executor(), 200ms);
          co_await t.async_wait(asio::use_awaitable);
          ++finished;
          co_return 7;
        },
        asio::use_future));
  }
  REQUIRE(started.wait_for(10s));
  pool.scale_down(3);  // blocks until the three removed workers drained
  CHECK(pool.size() == 1);
  pool.stop();
  CHECK(pool.size() == 0);
  CHECK(finished == 8);
  for (auto& f : futs)
    CHECK(f.get() == 7);

  auto late = pool.async_send(request("GET", "http://127.0.0.1:9/"), asio::use_future);
  REQUIRE(late.wait_for(5s) == std::future_status::ready);
  try {
    late.get();
    FAIL("expected pool_stopped");
  } catch (const std::system_error& e) {
    CHECK(e.code() == error::pool_stopped);
  }
  auto late_run = pool.async_run([](worker&) -> asio::awaitable<void> { co_return; }, asio::use_future);
  REQUIRE(late_run.wait_for(5s) == std::future_status::ready);
  CHECK_THROWS_AS(late_run.get(), std::system_error);
  pool.scale_up(2);  // a stopped pool stays stopped
  CHECK(pool.size() == 0);
}

TEST_CASE("tasks still running after the drain timeout are cancelled, not lost", "[threads]") {
  script_server server({}, {step::expect_request(), step::stall_forever()});
  pool_options opts = with_workers(2);
  opts.drain_timeout = 200ms;
  auto pool = std::make_unique<client_pool>(opts);
  auto fut = pool->async_send(request("GET", server.url("/")), asio::use_future);
  REQUIRE(server.wait_for_requests(1));
  const auto start = std::chrono::steady_clock::now();
  pool.reset();  // the destructor drains: the stalled request is cancelled after 200 ms
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  // The completion was posted before the destructor returned, but use_future's handler runs on one of
  // Asio's system threads (its associated executor), so the future may be made ready a moment later.
  REQUIRE(fut.wait_for(5s) == std::future_status::ready);
  try {
    fut.get();
    FAIL("expected operation_aborted");
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
}

TEST_CASE("many callers at once", "[threads]") {
  auto server = echo_server();
  client_pool pool(with_workers(4));
  constexpr int threads = 4, per_thread = 250;
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      asio::io_context ctx;
      auto coro = [&]() -> asio::awaitable<void> {
        for (int i = 0; i < per_thread; ++i) {
          const std::string path = "/" + std::to_string(t) + "/" + std::to_string(i);
          request req("GET", server.url(path));
          auto [ec, res] = co_await pool.async_send(std::move(req), use_tuple);
          if (!ec && res.body() == path) ++ok;
        }
      };
      asio::co_spawn(ctx, coro(), asio::detached);
      ctx.run();
    });
  }
  for (auto& c : callers)
    c.join();
  CHECK(ok == threads * per_thread);
  const auto st = pool.stats();
  CHECK(st.total.requests == static_cast<std::uint64_t>(threads * per_thread));
  CHECK(st.total.errors == 0);
  // Each worker keeps its own keep-alive connections: at most a few per worker, never one per request.
  CHECK(st.total.connections_opened <= 4u * 4u);
}

#if SENTINEL_OWNER_CHECKS
TEST_CASE("using a worker-owned client from another thread aborts with a clear message", "[threads]") {
  for (const char* mode : {"client", "worker"}) {
    INFO(mode);
    const std::string out = "/tmp/sentinel_owner_probe_" + std::to_string(::getpid()) + "_" + mode + ".txt";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    std::string probe = sentinel::test::required_env("SENTINEL_OWNER_PROBE");
    char* argv[] = {probe.data(), const_cast<char*>(mode), nullptr};
    REQUIRE(posix_spawn(&pid, probe.c_str(), &fa, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGABRT);
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THAT(text, Catch::Contains("used from a thread that does not own it"));
    std::remove(out.c_str());
  }
}
#endif
