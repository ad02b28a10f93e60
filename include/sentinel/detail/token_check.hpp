// sentinel: compile-time checks of what users pass to the asynchronous operations, so that a mistake
// fails with one sentence naming what was expected instead of pages of Asio template errors.
#pragma once

#include <sentinel/config.hpp>

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>

#include <exception>
#include <type_traits>

namespace sentinel {
class worker;
}

namespace sentinel::detail {

template <class T>
struct awaitable_value {
  static constexpr bool is_awaitable = false;
  using type = void;
};
template <class T, class E>
struct awaitable_value<asio::awaitable<T, E>> {
  static constexpr bool is_awaitable = true;
  using type = T;
};

/// The result of `Task&(worker&)`, or void when it is not callable so (the static_assert then speaks).
template <class Task, bool = std::is_invocable_v<Task&, worker&>>
struct task_result {
  using type = void;
};
template <class Task>
struct task_result<Task, true> {
  using type = std::invoke_result_t<Task&, worker&>;
};

/// True for a task async_run accepts: callable as `task(worker&)`, returning `asio::awaitable<R>`.
template <class Task>
inline constexpr bool valid_task = awaitable_value<typename task_result<Task>::type>::is_awaitable;

/// The value a task's coroutine co_returns (void for an invalid task).
template <class Task>
using task_value_t = typename awaitable_value<typename task_result<Task>::type>::type;

/// async_run's completion signature: `void(std::exception_ptr)` for a task returning awaitable<void>,
/// `void(std::exception_ptr, R)` otherwise.
template <class Task, class R = task_value_t<Task>>
struct run_signature {
  using type = void(std::exception_ptr, R);
};
template <class Task>
struct run_signature<Task, void> {
  using type = void(std::exception_ptr);
};
template <class Task>
using run_signature_t = typename run_signature<Task>::type;

/// True when `Token` completes an operation of signature `Sig`: any Asio token (use_awaitable,
/// use_future, deferred, as_tuple, bind_executor ...), or a callback callable with those arguments.
template <class Token, class Sig>
inline constexpr bool valid_token = asio::completion_token_for<Token, Sig>;

}  // namespace sentinel::detail
