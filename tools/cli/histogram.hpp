// sentinel CLI: an HDR-style latency histogram (log-linear buckets over nanoseconds).
//
// Each power of two is split into 128 linear sub-buckets, so a bucket is at most 1/128 (0.78%) of the
// values it holds wide: every percentile is reported within 1% of the true value. Values from 1 ns to
// 2^36 ns (68.7 s) are tracked; larger ones land in the last bucket (min, max and mean stay exact).
// 3840 counters (30 KiB). Not thread-safe: each bench worker records into its own histogram, on its own
// thread, and the histograms are merged once at the end.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace sentinel::cli {

class latency_histogram {
 public:
  static constexpr unsigned sub_bits = 7;                           // 128 sub-buckets per power of two
  static constexpr std::uint64_t sub_count = 1u << sub_bits;        // 128
  static constexpr std::uint64_t max_trackable = (1ull << 36) - 1;  // about 68.7 s in ns
  // 256 exact buckets, then 128 per shift 1..28 (values up to 2^36).
  static constexpr std::size_t bucket_count = 2 * sub_count + (36 - sub_bits - 1) * sub_count;

  latency_histogram() : counts_(bucket_count, 0) {}

  /// Records one value (nanoseconds).
  void record(std::uint64_t ns) noexcept {
    ++counts_[index_of(std::min(ns, max_trackable))];
    ++count_;
    sum_ += ns;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }

  /// Adds every value recorded in `other`.
  void merge(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i)
      counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t count() const noexcept { return count_; }
  /// Exact minimum and maximum (0 when empty).
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  /// Exact mean (0 when empty).
  double mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
  }

  /// The value at percentile `p` (0..100): the highest value of the bucket that holds the rank
  /// ceil(p% of count), clamped to [min, max]; the exact min for p = 0. 0 when empty.
  std::uint64_t percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    if (!(p > 0)) return min_;  // NaN too
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(std::min(p, 100.0) / 100.0 * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(highest_equivalent(i), min(), max_);
    }
    return max_;
  }

  /// The bucket holding `v` (v <= max_trackable).
  static std::size_t index_of(std::uint64_t v) noexcept {
    if (v < 2 * sub_count) return static_cast<std::size_t>(v);  // exact below 256 ns
    const unsigned shift =
        static_cast<unsigned>(std::bit_width(v)) - (sub_bits + 1);  // v >> shift in [128, 256)
    return static_cast<std::size_t>(2 * sub_count + (shift - 1) * sub_count + ((v >> shift) - sub_count));
  }
  /// The smallest and largest value that land in bucket `i`.
  static std::uint64_t lowest_equivalent(std::size_t i) noexcept {
    if (i < 2 * sub_count) return i;
    const std::size_t k = i - 2 * sub_count;
    const unsigned shift = static_cast<unsigned>(k / sub_count) + 1;
    return (sub_count + k % sub_count) << shift;
  }
  static std::uint64_t highest_equivalent(std::size_t i) noexcept {
    if (i < 2 * sub_count) return i;
    const unsigned shift = static_cast<unsigned>((i - 2 * sub_count) / sub_count) + 1;
    return lowest_equivalent(i) + (std::uint64_t{1} << shift) - 1;
  }

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace sentinel::cli
