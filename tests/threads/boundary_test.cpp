// The edges of the thread boundary (issue "Thread boundary"): late cancellation after the worker is gone,
// user callbacks that throw, initiations that throw half-way, exceptions escaping handlers on the pool's
// threads, stats() during a drain, and the drain deadline. One test per edge; each failed (a
// use-after-free under ASan, a leak, a hang, or a terminate) before the fix. Runs under ASan and TSan.
#include <sentinel/client_pool.hpp>

#include "support/client_helpers.hpp"
#include "support/env.hpp"
#include "support/run_until.hpp"
#include "support/script_server.hpp"
#include "threads/threads_support.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <future>
#include <map>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;
using sentinel::client_pool;
using sentinel::error;
using sentinel::http_client;
using sentinel::request;
using sentinel::response;
using sentinel::worker;
using sentinel::test::finishes_within;
using sentinel::test::run_until;
using sentinel::test::script_server;
using sentinel::test::use_tuple;
using sentinel::test::with_workers;

namespace {

script_server body_server() {
  return script_server([](const sentinel::test::received_request& r) {
    return script_server::response(200, "body of " + r.target);
  });
}

// Polls `pred` until it holds or 10 s pass.
template <class Pred>
bool eventually(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A request whose on_body throws `what` (a std::runtime_error), or a non-std exception when `what` is null.
request throwing_download(const std::string& url, const char* what) {
  request req("GET", url);
  req.options().on_body = [what](std::string_view) -> bool {
    if (what != nullptr) throw std::runtime_error(what);
    throw 42;
  };
  return req;
}

}  // namespace

TEST_CASE("a cancellation that arrives after the task is done is a no-op, whatever became of its worker",
          "[threads][boundary]") {
  enum class fate { destroyed, stopped, scaled_down, replaced };
  for (fate how : {fate::destroyed, fate::stopped, fate::scaled_down, fate::replaced}) {
    INFO("fate " << static_cast<int>(how));
    asio::io_context caller;  // not run until the end: completions wait there, queued
    auto pool = std::make_unique<client_pool>(with_workers(2));
    constexpr int n = 4;
    std::array<asio::cancellation_signal, n> sigs;
    std::array<int, n> calls{}, got{};
    for (int i = 0; i < n; ++i) {
      pool->async_run([i](worker&) -> asio::awaitable<int> { co_return i + 1; },
                      asio::bind_cancellation_slot(
                          sigs[i].slot(), asio::bind_executor(caller, [&, i](std::exception_ptr e, int v) {
                            ++calls[i];
                            got[i] = e ? -1 : v;
                          })));
    }
    // The removal joins the worker threads: every task has finished and posted its completion by now.
    switch (how) {
      case fate::destroyed:
        pool.reset();
        break;
      case fate::stopped:
        pool->stop();
        break;
      case fate::scaled_down:
        pool->scale_down(1);
        break;
      case fate::replaced:  // a new worker may be built where the old one was
        pool->scale_down(1);
        pool->scale_up(1);
        break;
    }
    // Cancel from the handlers' side, after the tasks finished and before their handlers ran.
    for (auto& s : sigs)
      s.emit(asio::cancellation_type::terminal);
    caller.run();
    for (int i = 0; i < n; ++i) {
      CHECK(calls[i] == 1);
      CHECK(got[i] == i + 1);
    }
    if (pool && pool->size() > 0) {  // the pool that is left still works
      asio::io_context after;
      auto v = run_until(
          after, pool->async_run([](worker&) -> asio::awaitable<int> { co_return 9; }, asio::use_awaitable));
      CHECK(v == 9);
      pool.reset();
      after.run();
    }
  }
}

TEST_CASE("a throwing user callback frees its pool slot and reports what it threw", "[threads][boundary]") {
  auto server = body_server();
  sentinel::client_options opts;
  opts.pool.max_per_origin = 2;
  opts.timeouts.pool_acquire = 2s;  // a leaked slot shows as pool_timeout, quickly

  SECTION("standalone http_client: the slot comes back and run() returns") {
    asio::io_context ctx;
    http_client client(ctx, opts);
    run_until(ctx, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {  // one more than the origin's cap
        auto [ec, res] = co_await client.async_send(throwing_download(server.url("/t"), "boom"), use_tuple);
        CHECK(ec == error::callback_threw);
        REQUIRE(res.info().callback_exception);
        CHECK_THROWS_WITH(std::rethrow_exception(res.info().callback_exception), "boom");
      }
      // on_head throwing a non-std exception, and the awaitable form rethrowing it as thrown.
      request head_throws("GET", server.url("/h"));
      head_throws.options().on_head = [](const response&) -> bool { throw 7; };
      bool caught_int = false;
      try {
        co_await client.send(std::move(head_throws));
      } catch (int v) {
        caught_int = v == 7;
      }
      CHECK(caught_int);
      auto [ec, res] = co_await client.async_send(request("GET", server.url("/ok")), use_tuple);
      CHECK_FALSE(ec);
      CHECK(res.body() == "body of /ok");
    }());
    CHECK(client.stats().open_connections <= 2);
    // Nothing in flight: the client keeps no timer pending, so the context runs out of work.
    ctx.restart();
    ctx.run_for(5s);
    CHECK(ctx.stopped());
  }

  SECTION("a body source that throws ends the upload with callback_threw") {
    asio::io_context ctx;
    http_client client(ctx, opts);
    run_until(ctx, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        request up("POST", server.url("/up"));
        int calls = 0;
        up.set_body_source([&calls](std::span<char> buf) -> asio::awaitable<std::size_t> {
          if (++calls == 2) throw std::runtime_error("source failed");
          buf[0] = 'x';
          co_return 1;
        });
        auto [ec, res] = co_await client.async_send(std::move(up), use_tuple);
        CHECK(ec == error::callback_threw);
        REQUIRE(res.info().callback_exception);
        CHECK_THROWS_WITH(std::rethrow_exception(res.info().callback_exception), "source failed");
      }
      auto res = co_await client.send(request("GET", server.url("/after")));
      CHECK(res.body() == "body of /after");
    }());
  }

  SECTION("through a client_pool") {
    sentinel::pool_options po = with_workers(1);
    po.client = opts;
    client_pool pool(po);
    asio::io_context caller;
    run_until(caller, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        auto [ec, res] = co_await pool.async_send(throwing_download(server.url("/p"), nullptr), use_tuple);
        CHECK(ec == error::callback_threw);
        REQUIRE(res.info().callback_exception);
        CHECK_THROWS_AS(std::rethrow_exception(res.info().callback_exception), int);
      }
      auto [ec, res] = co_await pool.async_send(request("GET", server.url("/fine")), use_tuple);
      CHECK_FALSE(ec);
      CHECK(res.body() == "body of /fine");
    }());
    const auto st = pool.stats();
    CHECK(st.total.open_connections <= 2);
    CHECK(st.workers[0].tasks_in_flight == 0);
    pool.stop();
    caller.run();
  }
}

namespace {

// A completion handler whose copy constructor always throws; moving it is fine.
struct copy_throws {
  std::atomic<int>* calls;
  explicit copy_throws(std::atomic<int>* c) : calls(c) {}
  copy_throws(const copy_throws&) { throw std::runtime_error("copy"); }
  copy_throws(copy_throws&&) noexcept = default;
  void operator()(std::exception_ptr, int) { ++*calls; }
};

// A task whose move constructor throws once `moves` reaches `throw_at`.
struct move_throws_task {
  int* moves;
  int throw_at;
  move_throws_task(int* m, int t) : moves(m), throw_at(t) {}
  move_throws_task(const move_throws_task&) = delete;
  move_throws_task(move_throws_task&& o) : moves(o.moves), throw_at(o.throw_at) {
    if (++*moves == throw_at) throw std::runtime_error("move");
  }
  asio::awaitable<int> operator()(worker&) { co_return 3; }
};

}  // namespace

TEST_CASE("an initiation that throws half-way leaves no admission behind", "[threads][boundary]") {
  auto pool = std::make_unique<client_pool>(with_workers(2));
  std::atomic<int> calls{0};

  // An lvalue handler is copied into the operation (Asio's rule): the copy throws out of async_run.
  copy_throws lvalue(&calls);
  for (int i = 0; i < 10; ++i) {
    CHECK_THROWS_WITH(pool->async_run([](worker&) -> asio::awaitable<int> { co_return 1; }, lvalue), "copy");
  }
  // An rvalue is moved, never copied: these complete.
  for (int i = 0; i < 10; ++i)
    pool->async_run([](worker&) -> asio::awaitable<int> { co_return 1; }, copy_throws(&calls));

  // A task whose move throws at the k-th move, for every k until none throws.
  int completed = 0, thrown = 0;
  for (int k = 1; k < 20; ++k) {
    int moves = 0;
    try {
      auto fut = pool->async_run(move_throws_task(&moves, k), asio::use_future);
      CHECK(fut.get() == 3);
      ++completed;
      if (moves < k) break;  // no move was left to throw: every point was tried
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "move");
      ++thrown;
    }
  }
  CHECK(thrown >= 1);
  CHECK(completed >= 1);

  // Nothing was left counted: the drain of stop() ends (it spun forever on a leaked admission).
  finishes_within(
      10s, [&] { pool->stop(); }, "stop() after throwing initiations");
  for (const auto& w : pool->stats().workers)
    CHECK(w.tasks_in_flight == 0);
  // The ten callbacks run on the pool's completion thread, which stop() does not wait for (on a busy
  // machine it may not have run yet); the destructor joins it after it has run what was posted to it.
  pool.reset();
  CHECK(calls == 10);
}

TEST_CASE("an exception of any type escaping a handler on a pool thread is reported; the thread goes on",
          "[threads][boundary]") {
  std::mutex m;
  std::vector<std::string> reports;
  std::vector<std::thread::id> report_threads;
  sentinel::pool_options opts = with_workers(1);
  opts.on_handler_exception = [&](std::exception_ptr e) {
    std::lock_guard l(m);
    report_threads.push_back(std::this_thread::get_id());
    try {
      std::rethrow_exception(e);
    } catch (int v) {
      reports.push_back("int " + std::to_string(v));
    } catch (const std::exception& x) {
      reports.push_back(x.what());
    }
    if (reports.size() == 3) throw std::runtime_error("the hook throws too");  // printed and dropped
  };
  client_pool pool(opts);

  // The completion thread: a plain callback throws a non-std exception.
  std::promise<std::thread::id> completion_thread;
  pool.async_run([](worker&) -> asio::awaitable<int> { co_return 1; },
                 [&](std::exception_ptr, int) {
                   completion_thread.set_value(std::this_thread::get_id());
                   throw 42;
                 });
  const auto completion_id = completion_thread.get_future().get();
  // A worker: a handler bound to the worker's executor throws, from inside a task.
  auto worker_thread = pool.async_run(
      [](worker& w) -> asio::awaitable<std::thread::id> {
        asio::post(w.get_executor(), [] { throw 43; });
        asio::post(w.get_executor(), [] { throw std::logic_error("std too"); });
        co_await asio::post(w.get_executor(), asio::use_awaitable);
        co_await asio::post(w.get_executor(), asio::use_awaitable);
        co_return std::this_thread::get_id();
      },
      asio::use_future);
  const auto worker_id = worker_thread.get();

  // Both threads survived: later operations complete, on both.
  std::promise<int> later;
  pool.async_run([](worker&) -> asio::awaitable<int> { co_return 5; },
                 [&](std::exception_ptr, int v) { later.set_value(v); });
  auto later_value = later.get_future();
  REQUIRE(later_value.wait_for(10s) == std::future_status::ready);
  CHECK(later_value.get() == 5);

  // The completion thread reports its exception just after set_value(): wait for all three.
  REQUIRE(eventually([&] {
    std::lock_guard l(m);
    return reports.size() == 3;
  }));
  std::lock_guard l(m);
  std::map<std::string, std::thread::id> where;
  for (std::size_t i = 0; i < reports.size(); ++i)
    where[reports[i]] = report_threads[i];
  REQUIRE(where.size() == 3);
  CHECK(where["int 42"] == completion_id);
  CHECK(where["int 43"] == worker_id);
  CHECK(where["std too"] == worker_id);
}

namespace {

// A task that waits (politely: a polling timer) until `release` is set. Cancellation ends it early.
asio::awaitable<int> hold_until(worker& w, std::atomic<bool>& release, std::atomic<int>& started) {
  ++started;
  asio::steady_timer t(w.get_executor());
  while (!release) {
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return 1;
}

}  // namespace

TEST_CASE("stats() and scale_up() do not wait for a drain; stop() waits for every worker",
          "[threads][boundary]") {
  sentinel::pool_options opts = with_workers(2);
  opts.drain_timeout = 60s;  // the drain ends only when the tasks are released
  client_pool pool(opts);
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  std::vector<std::future<int>> futs;
  for (int i = 0; i < 2; ++i)  // one on each worker (round robin from one thread)
    futs.push_back(
        pool.async_run([&](worker& w) { return hold_until(w, release, started); }, asio::use_future));
  REQUIRE(eventually([&] { return started == 2; }));

  std::thread down([&] { pool.scale_down(1); });  // drains the newest worker: waits for its task
  REQUIRE(eventually([&] { return pool.size() == 1; }));

  auto snapshot = std::async(std::launch::async, [&] { return pool.stats(); });
  const bool stats_returned = snapshot.wait_for(5s) == std::future_status::ready;
  CHECK(stats_returned);
  auto grow = std::async(std::launch::async, [&] { pool.scale_up(1); });
  const bool scale_up_returned = grow.wait_for(5s) == std::future_status::ready;
  CHECK(scale_up_returned);
  std::thread stopper([&] { pool.stop(); });  // must also wait for the worker scale_down is draining
  if (stats_returned) {
    const auto st = snapshot.get();
    std::size_t draining = 0;
    for (const auto& w : st.workers)
      draining += w.draining ? 1 : 0;
    CHECK(draining >= 1);
    CHECK(st.tasks == 2);
  }
  release = true;
  down.join();
  stopper.join();
  CHECK(pool.size() == 0);
  for (auto& f : futs)
    CHECK(f.get() == 1);  // finished on their own, before the (long) deadline
  CHECK(pool.stats().workers.empty());
}

namespace {

// A lvalue handler whose copy blocks until `go`: holds an initiation between admission and post.
struct blocking_copy {
  std::atomic<bool>* go;
  std::atomic<bool>* copying;
  std::promise<std::error_code>* result;
  blocking_copy(std::atomic<bool>* g, std::atomic<bool>* c, std::promise<std::error_code>* r)
      : go(g), copying(c), result(r) {}
  blocking_copy(const blocking_copy& o) : go(o.go), copying(o.copying), result(o.result) {
    *copying = true;
    while (!*go)
      std::this_thread::sleep_for(1ms);
  }
  blocking_copy(blocking_copy&&) noexcept = default;
  void operator()(std::exception_ptr e, int) {
    std::error_code ec;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::system_error& x) {
        ec = x.code();
      }
    }
    result->set_value(ec);
  }
};

}  // namespace

TEST_CASE("the drain deadline: late starters never run, a task that ignores cancellation is waited for",
          "[threads][boundary]") {
  SECTION("admitted before the worker closed, started after the deadline: aborted without running") {
    sentinel::pool_options opts = with_workers(1);
    opts.drain_timeout = 20ms;
    client_pool pool(opts);
    std::atomic<bool> go{false}, copying{false}, ran{false};
    std::promise<std::error_code> result;
    blocking_copy handler(&go, &copying, &result);
    std::thread submitter([&] {
      // Admitted at once; then the handler's copy holds the initiation before anything is posted.
      pool.async_run(
          [&](worker& w) -> asio::awaitable<int> {
            ran = true;
            asio::steady_timer t(w.get_executor(), 1h);  // would hold the drain for an hour
            co_await t.async_wait(asio::use_awaitable);
            co_return 1;
          },
          handler);
    });
    REQUIRE(eventually([&] { return copying.load(); }));
    std::thread stopper([&] { pool.stop(); });
    // Wait until the worker's drain deadline has passed (the stats show leaving workers).
    REQUIRE(eventually([&] {
      const auto st = pool.stats();
      return !st.workers.empty() && st.workers[0].drain_deadline_passed;
    }));
    go = true;  // now the task is posted: it must not run
    submitter.join();
    finishes_within(
        10s, [&] { stopper.join(); }, "stop() with a task that started after the drain deadline");
    auto r = result.get_future();
    REQUIRE(r.wait_for(5s) == std::future_status::ready);
    CHECK(r.get() == asio::error::operation_aborted);
    CHECK_FALSE(ran);
  }

  SECTION("a task that ignores the terminal cancellation keeps the drain waiting; its result is its own") {
    sentinel::pool_options opts = with_workers(1);
    opts.drain_timeout = 20ms;
    client_pool pool(opts);
    std::atomic<bool> done{false};
    auto fut = pool.async_run(
        [&](worker& w) -> asio::awaitable<int> {
          co_await asio::this_coro::reset_cancellation_state(
              [](asio::cancellation_type) { return asio::cancellation_type::none; });
          asio::steady_timer t(w.get_executor(), 300ms);
          co_await t.async_wait(asio::use_awaitable);
          done = true;
          co_return 5;
        },
        asio::use_future);
    REQUIRE(eventually([&] { return pool.stats().workers[0].tasks_in_flight == 1; }));
    pool.stop();
    CHECK(done);  // stop() returned only after the task finished
    CHECK(fut.get() == 5);
  }
}

#if SENTINEL_OWNER_CHECKS
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

TEST_CASE("destroying a completion's io_context while its operation is in flight aborts with a clear message",
          "[threads][boundary]") {
  const std::string out = "/tmp/sentinel_owner_probe_" + std::to_string(::getpid()) + "_home.txt";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  std::string probe = sentinel::test::required_env("SENTINEL_OWNER_PROBE");
  char mode[] = "home";
  char* argv[] = {probe.data(), mode, nullptr};
  REQUIRE(posix_spawn(&pid, probe.c_str(), &fa, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGABRT);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("was destroyed while 1 client_pool operation(s)"));
  std::remove(out.c_str());
}
#endif
