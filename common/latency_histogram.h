// SPDX-License-Identifier: Apache-2.0
/// @file latency_histogram.h
/// @brief A fixed-size log-linear histogram (HDR-style): exact below 16, then 16 sub-buckets per
/// power of two, so any recorded value is reported within 1/16 (6.25 %) of itself. Recording is a
/// few instructions and never allocates; histograms of several owners (lcores) are merged by the
/// reader. Units are the caller's (the shard records microseconds, dotpin-bench nanoseconds).
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace dotpin {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 4;
  static constexpr unsigned kSub = 1u << kSubBits;  ///< sub-buckets per power of two
  static constexpr unsigned kMaxExponent = 40;      ///< values >= 2^41 are clamped into the last bucket
  static constexpr std::size_t kBuckets = (kMaxExponent - kSubBits + 2) * kSub;

  void record(std::uint64_t value) noexcept {
    ++counts_[index_of(value)];
    ++count_;
    sum_ += value;
    if (value > max_) max_ = value;
    if (count_ == 1 || value < min_) min_ = value;
  }

  void merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    if (other.count_ > 0) {
      if (count_ == 0 || other.min_ < min_) min_ = other.min_;
      if (other.max_ > max_) max_ = other.max_;
    }
    count_ += other.count_;
    sum_ += other.sum_;
  }

  void clear() noexcept { *this = LatencyHistogram{}; }

  /// The value below which a fraction @p q (0..1) of the recorded values lie: the highest value of
  /// the bucket where the rank falls, never above max(). 0 when empty.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    if (q <= 0) return min_;
    const double want = q >= 1 ? static_cast<double>(count_) : q * static_cast<double>(count_);
    std::uint64_t rank = static_cast<std::uint64_t>(want);
    if (static_cast<double>(rank) < want) ++rank;  // ceil: the rank-th value, 1-based
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const std::uint64_t top = highest_in(i);
        return top < max_ ? (top < min_ ? min_ : top) : max_;
      }
    }
    return max_;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  [[nodiscard]] std::uint64_t bucket_count(std::size_t i) const noexcept { return counts_[i]; }

  static constexpr std::size_t index_of(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<std::size_t>(v);
    unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;  // v in [2^e, 2^(e+1))
    if (e > kMaxExponent) return kBuckets - 1;
    const std::uint64_t sub = (v >> (e - kSubBits)) - kSub;  // the kSubBits bits after the leading one
    return static_cast<std::size_t>((e - kSubBits + 1) * kSub + sub);
  }
  /// The highest value that lands in bucket @p i.
  static constexpr std::uint64_t highest_in(std::size_t i) noexcept {
    if (i < kSub) return i;
    const unsigned e = static_cast<unsigned>(i / kSub) + kSubBits - 1;
    const std::uint64_t sub = i % kSub;
    return ((kSub + sub + 1) << (e - kSubBits)) - 1;
  }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0, sum_ = 0, max_ = 0, min_ = 0;
};

}  // namespace dotpin
