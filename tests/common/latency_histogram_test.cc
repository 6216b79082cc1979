// SPDX-License-Identifier: Apache-2.0
#include "common/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace dotpin {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, EveryBucketBoundaryMapsBackWithinOneSixteenth) {
  for (std::uint64_t v = 0; v < 200000; v += (v < 100 ? 1 : v / 50)) {
    const auto i = LatencyHistogram::index_of(v);
    ASSERT_LT(i, LatencyHistogram::kBuckets);
    const auto top = LatencyHistogram::highest_in(i);
    EXPECT_GE(top, v) << v;
    EXPECT_LE(static_cast<double>(top - v), static_cast<double>(v) / 16.0 + 1) << v;
    if (i > 0) {
      EXPECT_LT(LatencyHistogram::highest_in(i - 1), v) << v;  // buckets are contiguous
    }
  }
  EXPECT_EQ(LatencyHistogram::index_of(~std::uint64_t{0}), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, QuantilesMatchASortedSampleWithinPrecision) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(6.0, 1.2);  // ~400 µs median, long tail
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::uint64_t>(d(rng));
    values.push_back(v);
    h.record(v);
  }
  std::ranges::sort(values);
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact = values[static_cast<std::size_t>(q * static_cast<double>(values.size())) - 1];
    const auto got = h.quantile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + 1.0 / 16) + 1) << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.quantile(1.0), values.back());
}

TEST(LatencyHistogram, MergedEqualsRecordedTogether) {
  LatencyHistogram a, b, both;
  for (std::uint64_t v = 1; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v);
    both.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_EQ(a.min(), both.min());
  for (const double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.quantile(q), both.quantile(q));
}

}  // namespace
}  // namespace dotpin
