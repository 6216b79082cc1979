// SPDX-License-Identifier: Apache-2.0
#include "tls/upstream_stats.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace dotpin::tls {
namespace {

// The table must name every counter of the struct, each once: the counters are the uint64 members
// from `queries` up to `drained`, declared together, so their span in bytes says how many there are.
TEST(UpstreamStats, TheFieldTableNamesEveryCounterOnce) {
  UpstreamStats s;
  const auto span = reinterpret_cast<const char*>(&s.drained) - reinterpret_cast<const char*>(&s.queries);
  EXPECT_EQ(static_cast<std::size_t>(span), std::size(kUpstreamCounters) * sizeof(std::uint64_t))
      << "a counter of UpstreamStats is missing from kUpstreamCounters (or one was added elsewhere)";
  std::set<std::string_view> names;
  std::set<const std::uint64_t*> members;
  for (const auto& f : kUpstreamCounters) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_TRUE(members.insert(&(s.*f.member)).second) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    for (const char c : f.name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << f.name;  // metric-name safe
  }
  EXPECT_TRUE(names.contains("unmatched"));
  EXPECT_TRUE(names.contains("resumptions_offered"));
}

TEST(UpstreamStats, AccumulateSumsEveryCounterAndKeepsTheWorst) {
  UpstreamStats a, b;
  std::uint64_t v = 1;
  for (const auto& f : kUpstreamCounters) {
    a.*f.member = v;
    b.*f.member = 100 * v;
    ++v;
  }
  a.failures[static_cast<std::size_t>(FailureReason::kPinMismatch)] = 2;
  b.failures[static_cast<std::size_t>(FailureReason::kPinMismatch)] = 3;
  b.health = UpstreamHealth::kPinFailed;
  b.drained = true;
  UpstreamStats sum;
  accumulate(sum, a);
  accumulate(sum, b);
  v = 1;
  for (const auto& f : kUpstreamCounters) {
    EXPECT_EQ(sum.*f.member, 101 * v) << f.name;
    ++v;
  }
  EXPECT_EQ(sum.failures[static_cast<std::size_t>(FailureReason::kPinMismatch)], 5u);
  EXPECT_EQ(sum.health, UpstreamHealth::kPinFailed);
  EXPECT_TRUE(sum.drained);
  EXPECT_EQ(sum.rtt_ewma_us, 0.0);  // averaged by the caller, never summed
}

}  // namespace
}  // namespace dotpin::tls
