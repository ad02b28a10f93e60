// sentinel: a connection's deadlines. See deadlines.hpp.
#include "transport/deadlines.hpp"

#include <algorithm>

namespace sentinel::detail {

void deadline_set::arm(std::weak_ptr<void> life) noexcept {
  auto next = std::min(total_, phase_);
  for (const auto& x : extra_)
    next = std::min(next, x.at);
  if (next == never) return;
  if (pending_ && timer_at_ <= next) return;  // it fires first and re-arms for `next` then
  life_ = std::move(life);
  timer_at_ = next;
  pending_ = true;
  timer_.expires_at(next);  // cancels a pending wait: its handler sees a stale generation
  timer_.async_wait([this, life = life_, gen = ++generation_](std::error_code ec) {
    if (auto alive = life.lock()) on_timer(ec, gen);
  });
}

void deadline_set::on_timer(std::error_code ec, std::uint64_t generation) noexcept {
  if (generation != generation_) return;
  pending_ = false;
  timer_at_ = never;
  if (ec) return;
  const auto now = clock::now();
  if (total_ <= now) {
    fired_ = error::request_timeout;
  } else if (phase_ <= now) {
    fired_ = phase_error_;
  } else {
    extra* passed = nullptr;
    for (auto& x : extra_) {
      if (x.at <= now) {
        passed = &x;
        break;
      }
    }
    if (passed == nullptr) {
      arm(life_);
      return;
    }
    if (passed->e) {
      fired_ = *passed->e;
    } else {  // soft: not an error; the protocol reads soft_expired() after the wait is interrupted
      passed->at = never;
      passed->soft_expired = true;
    }
  }
  target_.cancel();  // the pending read/write/connect completes with operation_aborted
}

void deadline_set::clear() noexcept {
  total_ = phase_ = never;
  extra_ = {};
}

void deadline_set::stop() noexcept {
  clear();
  if (!pending_) return;
  ++generation_;
  pending_ = false;
  timer_at_ = never;
  timer_.cancel();
}

}  // namespace sentinel::detail
