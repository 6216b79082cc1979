// SPDX-License-Identifier: Apache-2.0
#include "dataplane/answer_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/dataplane/responses.h"

namespace dotpin::dataplane {
namespace {

struct Entry {
  CacheKey key;
  PreparedAnswer answer;
};

Entry entry(const std::string& name, std::uint32_t ttl = 300, std::uint16_t type = dns::kTypeA) {
  Entry e;
  QueryInfo q;
  const auto m = test::query(name.c_str(), type);
  EXPECT_EQ(parse_query(m, q, e.key), QueryVerdict::kOk);
  EXPECT_TRUE(prepare_answer(test::response(m, test::ResponseSpec{.a_ttls = {ttl}}), CacheLimits{}, e.answer));
  return e;
}

TEST(AnswerCache, HitUntilTheTtlRunsOut) {
  AnswerCache cache(CacheOptions{});
  const Entry e = entry("www.dotpin.test", 300);
  AnswerCache::Hit hit;
  EXPECT_FALSE(cache.lookup(e.key, 100, hit));
  ASSERT_TRUE(cache.insert(e.key, e.answer, 100));
  ASSERT_TRUE(cache.lookup(e.key, 100, hit));
  EXPECT_EQ(hit.age, 0u);
  EXPECT_EQ(std::vector<std::uint8_t>(hit.answer.message.begin(), hit.answer.message.end()), e.answer.message);
  ASSERT_TRUE(cache.lookup(e.key, 399, hit));
  EXPECT_EQ(hit.age, 299u);
  EXPECT_FALSE(cache.lookup(e.key, 400, hit));
  EXPECT_EQ(cache.stats().expired, 1u);
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(AnswerCache, StaleLookupFindsExpiredEntriesOnlyWithinStaleMax) {
  AnswerCache cache(CacheOptions{});
  const Entry e = entry("www.dotpin.test", 300);
  AnswerCache::Hit hit;
  EXPECT_FALSE(cache.lookup_stale(e.key, 100, 3600, hit));  // nothing stored
  ASSERT_TRUE(cache.insert(e.key, e.answer, 100));
  EXPECT_TRUE(cache.lookup_stale(e.key, 200, 3600, hit));   // live counts too
  EXPECT_FALSE(cache.lookup(e.key, 400, hit));              // expired for the hot path...
  EXPECT_TRUE(cache.lookup_stale(e.key, 400, 3600, hit));   // ...but servable stale
  EXPECT_EQ(hit.age, 300u);
  EXPECT_TRUE(cache.lookup_stale(e.key, 400 + 3599, 3600, hit));
  EXPECT_FALSE(cache.lookup_stale(e.key, 400 + 3600, 3600, hit));  // past stale_max
  EXPECT_FALSE(cache.lookup_stale(e.key, 400, 0, hit));            // 0: nothing stale
  // A pin change that narrowed trust: what was fetched before it is not served stale any more;
  // what is stored after it is.
  cache.revoke_stale();
  EXPECT_FALSE(cache.lookup_stale(e.key, 400, 3600, hit));
  ASSERT_TRUE(cache.insert(e.key, e.answer, 400));
  EXPECT_TRUE(cache.lookup_stale(e.key, 800, 3600, hit));
  cache.flush();
  EXPECT_FALSE(cache.lookup_stale(e.key, 400, 3600, hit));
}

TEST(AnswerCache, CaseInsensitiveTypeSensitive) {
  AnswerCache cache(CacheOptions{});
  ASSERT_TRUE(cache.insert(entry("www.dotpin.test").key, entry("www.dotpin.test").answer, 0));
  AnswerCache::Hit hit;
  EXPECT_TRUE(cache.lookup(entry("WWW.DOTPIN.TEST").key, 1, hit));
  EXPECT_FALSE(cache.lookup(entry("www.dotpin.test", 300, dns::kTypeAaaa).key, 1, hit));
  EXPECT_FALSE(cache.lookup(entry("ww.dotpin.test").key, 1, hit));
}

TEST(AnswerCache, ReplaceKeepsOneEntry) {
  AnswerCache cache(CacheOptions{});
  const Entry a = entry("a.test", 10), b = entry("a.test", 500);
  ASSERT_TRUE(cache.insert(a.key, a.answer, 0));
  ASSERT_TRUE(cache.insert(b.key, b.answer, 5));
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.stats().replaced, 1u);
  AnswerCache::Hit hit;
  EXPECT_TRUE(cache.lookup(a.key, 100, hit));  // the longer TTL won
}

TEST(AnswerCache, BoundedInEntriesAndBytes) {
  AnswerCache cache(CacheOptions{.entries = 64});
  EXPECT_EQ(cache.capacity(), 64u);
  for (int i = 0; i < 5000; ++i) {
    const Entry e = entry("n" + std::to_string(i) + ".test", 300 + static_cast<std::uint32_t>(i));
    cache.insert(e.key, e.answer, 0);
  }
  EXPECT_LE(cache.stats().entries, 64u);
  EXPECT_GE(cache.stats().evictions, 5000u - 64u);
  // The newest names survive: eviction takes the entry that expires first.
  AnswerCache::Hit hit;
  EXPECT_TRUE(cache.lookup(entry("n4999.test").key, 1, hit));

  AnswerCache small(CacheOptions{.entries = 1024, .max_bytes = 4096});
  for (int i = 0; i < 200; ++i) {
    const Entry e = entry("n" + std::to_string(i) + ".test");
    small.insert(e.key, e.answer, 0);
  }
  EXPECT_LE(small.stats().bytes, 4096u);
  EXPECT_GT(small.stats().not_stored, 0u);
}

TEST(AnswerCache, ExpiredWaysAreReusedFirst) {
  AnswerCache cache(CacheOptions{.entries = 8});  // one bucket
  for (int i = 0; i < 8; ++i) {
    const Entry e = entry("x" + std::to_string(i) + ".test", i == 3 ? 1 : 1000);
    ASSERT_TRUE(cache.insert(e.key, e.answer, 0));
  }
  const Entry late = entry("late.test", 1000);
  ASSERT_TRUE(cache.insert(late.key, late.answer, 10));
  EXPECT_EQ(cache.stats().evictions, 0u);  // x3 had expired: not an eviction
  AnswerCache::Hit hit;
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(cache.lookup(entry("x" + std::to_string(i) + ".test").key, 10, hit), i != 3) << i;
}

TEST(AnswerCache, TooLargeOrUncacheableIsNotStored) {
  AnswerCache cache(CacheOptions{.max_answer = 40});
  Entry e = entry("www.dotpin.test");
  EXPECT_FALSE(cache.insert(e.key, e.answer, 0));
  AnswerCache roomy(CacheOptions{});
  e.answer.ttl = 0;
  EXPECT_FALSE(roomy.insert(e.key, e.answer, 0));
  EXPECT_EQ(roomy.stats().entries, 0u);
}

TEST(AnswerCache, Flush) {
  AnswerCache cache(CacheOptions{});
  const Entry e = entry("www.dotpin.test");
  ASSERT_TRUE(cache.insert(e.key, e.answer, 0));
  cache.flush();
  AnswerCache::Hit hit;
  EXPECT_FALSE(cache.lookup(e.key, 0, hit));
  EXPECT_EQ(cache.stats().bytes, 0u);
}

}  // namespace
}  // namespace dotpin::dataplane
