// sentinel: the deadlines of one connection, on one lazily armed timer.
//
// Moving a deadline later never touches the timer; the timer fires at the old time, sees nothing
// expired, and re-arms for the new earliest deadline. So steady-state requests cost no timer operations
// at all. When a deadline passes, the timer records which one (`fired()`) and cancels the stream's
// pending operation; the operation's operation_aborted then becomes that deadline's error
// (`fired_or()`), and the connection is retired.
//
// The transport's deadlines are the whole exchange (total) and the current phase (connect, or what the
// protocol names: waiting for a response head, say; each names its own error). The protocol above adds
// its own in two more slots: a slot with an error fails the operation like those; a "soft" slot (no
// error) only interrupts the pending wait, and says so (soft_expired()). HTTP/1 uses them for its idle
// read and its Expect: 100-continue wait (http1/reader.hpp).
#pragma once

#include "transport/stream.hpp"

#include <sentinel/error.hpp>

#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>

namespace sentinel::detail {

using clock = std::chrono::steady_clock;

/// Now + `d`, or never for a zero (disabled) duration.
inline clock::time_point deadline_after(clock::duration d) noexcept {
  return d.count() > 0 ? clock::now() + d : clock::time_point::max();
}

class deadline_set {
 public:
  /// `target` is cancelled when a deadline passes; `life` must own whoever owns this object (the timer's
  /// handler checks it before touching anything).
  deadline_set(const asio::any_io_executor& ex, stream& target) : timer_(ex), target_(target) {}

  void set_total(clock::time_point t) noexcept { total_ = t; }
  clock::time_point total() const noexcept { return total_; }
  void set_phase(clock::time_point t, error e) noexcept {
    phase_ = t;
    phase_error_ = e;
  }
  void end_phase() noexcept { phase_ = never; }

  /// The protocol's own deadlines: slot `i` (< extra_slots) passes at `t` with `e`, or, without `e`,
  /// softly (see above). Setting or ending a slot forgets that it expired.
  static constexpr std::size_t extra_slots = 2;
  void set_extra(std::size_t i, clock::time_point t, std::optional<error> e) noexcept {
    extra_[i] = {t, e, false};
  }
  void end_extra(std::size_t i) noexcept { extra_[i] = {}; }
  /// True once soft slot `i` passed (the stream's pending wait was cancelled for it).
  bool soft_expired(std::size_t i) const noexcept { return extra_[i].soft_expired; }

  /// Makes sure the timer fires by the earliest deadline. `life` keeps the owner alive-checked.
  void arm(std::weak_ptr<void> life) noexcept;

  /// The deadline that passed since reset_fired(), if any.
  const std::optional<error>& fired() const noexcept { return fired_; }
  std::error_code fired_or(std::error_code ec) const noexcept {
    return fired_ ? make_error_code(*fired_) : ec;
  }
  void reset_fired() noexcept { fired_.reset(); }

  /// Forgets every deadline (the timer, if pending, fires harmlessly later).
  void clear() noexcept;
  /// clear(), and cancels a pending timer, so an idle client leaves no work on its executor.
  void stop() noexcept;

  /// Lends the timer out once the connection is done with deadlines (the TLS close guard): `h(ec)` runs
  /// after `d`, or with operation_aborted on stop() or cancel_loan().
  template <class Handler>
  void lend(clock::duration d, Handler&& h) {
    clear();
    ++generation_;
    pending_ = false;
    timer_at_ = never;
    timer_.expires_after(d);
    timer_.async_wait(std::forward<Handler>(h));
  }
  void cancel_loan() noexcept { timer_.cancel(); }

 private:
  static constexpr clock::time_point never = clock::time_point::max();
  void on_timer(std::error_code ec, std::uint64_t generation) noexcept;

  asio::steady_timer timer_;
  stream& target_;
  std::weak_ptr<void> life_;
  clock::time_point timer_at_ = never;
  std::uint64_t generation_ = 0;
  bool pending_ = false;
  struct extra {
    clock::time_point at = never;
    std::optional<error> e;  // none: soft
    bool soft_expired = false;
  };
  clock::time_point total_ = never, phase_ = never;
  error phase_error_ = error::connect_timeout;
  std::array<extra, extra_slots> extra_{};
  std::optional<error> fired_;
};

}  // namespace sentinel::detail
