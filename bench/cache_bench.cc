// SPDX-License-Identifier: Apache-2.0
// Per-lcore or shared answer cache? Two measurements (docs/architecture.md has the decision):
//  - speed: a lookup in dotpin's per-lcore cache (burst of 32, buckets prefetched, as the worker
//    does) vs DPDK's rte_hash with lock-free concurrent readers (RW_CONCURRENCY_LF), which a cache
//    shared by all lcores would need — bulk lookup of the same keys; the shared cache would then
//    still have to read the record behind the key, which this does not count.
//  - hit ratio: a Zipf-distributed workload over 1M names whose queries RSS spreads over L lcores,
//    with one shared cache of C entries vs L per-lcore caches of C/L (same memory) and of C each.
// Built into the pipeline benchmark binary (it needs EAL for rte_hash).
#include <benchmark/benchmark.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/answer_cache.h"
#include "tests/dataplane/frames.h"

namespace {

using namespace dotpin;
using namespace dotpin::dataplane;

struct Keys {
  std::vector<CacheKey> keys;
  PreparedAnswer answer;
};

const Keys& keys_for(std::size_t n) {
  static std::map<std::size_t, Keys> cache;
  auto& k = cache[n];
  if (!k.keys.empty()) return k;
  k.keys.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = "n" + std::to_string(i) + ".cache.test";
    QueryInfo q;
    parse_query(test::query(name.c_str()), q, k.keys[i]);
  }
  auto q = test::query("x.cache.test");
  q[2] |= 0x80;
  q[7] = 1;
  q.insert(q.end(), {0xc0, 12, 0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4, 198, 18, 0, 10});
  prepare_answer(q, CacheLimits{}, k.answer);
  return k;
}

std::vector<std::uint32_t> random_order(std::size_t n, std::size_t count) {
  std::mt19937 rng(11);
  std::vector<std::uint32_t> order(count);
  for (auto& o : order) o = static_cast<std::uint32_t>(rng() % n);
  return order;
}

void BM_PerLcoreCacheLookup(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Keys& k = keys_for(n);
  AnswerCache cache(CacheOptions{.entries = n * 2, .max_bytes = std::size_t{8} << 30});
  for (const auto& key : k.keys) cache.insert(key, k.answer, 0);
  const auto order = random_order(n, 1 << 20);
  std::size_t at = 0;
  std::uint64_t hits = 0;
  for (auto _ : state) {
    for (unsigned i = 0; i < 32; ++i) cache.prefetch(k.keys[order[(at + i) & (order.size() - 1)]]);
    for (unsigned i = 0; i < 32; ++i) {
      AnswerCache::Hit hit;
      hits += cache.lookup(k.keys[order[(at + i) & (order.size() - 1)]], 1, hit);
      benchmark::DoNotOptimize(hit.answer.message.data());
    }
    at += 32;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations() * 32);
}
BENCHMARK(BM_PerLcoreCacheLookup)->Arg(10000)->Arg(1000000);

void BM_SharedRteHashLookup(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Keys& k = keys_for(n);
  // rte_hash needs fixed-length keys: the 64-bit key hash stands in for the key bytes here, which
  // flatters rte_hash (8-byte compares instead of the name's).
  rte_hash_parameters p{};
  const std::string name = "bench" + std::to_string(n);
  p.name = name.c_str();
  p.entries = static_cast<std::uint32_t>(n * 2);
  p.key_len = sizeof(std::uint64_t);
  p.hash_func = rte_jhash;
  p.socket_id = 0;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) {
    state.SkipWithError("rte_hash_create failed (EAL memory)");
    return;
  }
  for (std::size_t i = 0; i < n; ++i) rte_hash_add_key_data(h, &k.keys[i].hash, reinterpret_cast<void*>(i + 1));
  const auto order = random_order(n, 1 << 20);
  std::size_t at = 0;
  std::uint64_t hits = 0;
  const void* key_ptrs[32];
  void* data[32];
  for (auto _ : state) {
    for (unsigned i = 0; i < 32; ++i) key_ptrs[i] = &k.keys[order[(at + i) & (order.size() - 1)]].hash;
    std::uint64_t mask = 0;
    hits += static_cast<std::uint64_t>(rte_hash_lookup_bulk_data(h, key_ptrs, 32, &mask, data));
    benchmark::DoNotOptimize(data[0]);
    at += 32;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations() * 32);
  rte_hash_free(h);
}
BENCHMARK(BM_SharedRteHashLookup)->Arg(10000)->Arg(1000000);

// Hit ratio, not speed: args = lcores, layout (0: one shared cache of C; 1: per-lcore caches of
// C/L, the same memory; 2: per-lcore caches of C each, L times the memory).
void BM_HitRatio(benchmark::State& state) {
  constexpr std::size_t kNames = 1000000, kCapacity = 100000, kQueries = 2000000;
  const auto lcores = static_cast<std::size_t>(state.range(0));
  const auto layout = state.range(1);
  const Keys& k = keys_for(kNames);
  // Zipf (s = 0.9), the usual shape of resolver query popularity.
  static std::vector<double> cdf;
  if (cdf.empty()) {
    cdf.resize(kNames);
    double sum = 0;
    for (std::size_t i = 0; i < kNames; ++i) cdf[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), 0.9));
    for (auto& c : cdf) c /= sum;
  }
  double ratio = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<AnswerCache>> caches;
    const std::size_t count = layout == 0 ? 1 : lcores;
    const std::size_t each = layout == 1 ? kCapacity / lcores : kCapacity;
    for (std::size_t i = 0; i < count; ++i)
      caches.push_back(std::make_unique<AnswerCache>(CacheOptions{.entries = each, .max_bytes = std::size_t{8} << 30}));
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    std::uint64_t hits = 0;
    for (std::size_t q = 0; q < kQueries; ++q) {
      const auto name = static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
      AnswerCache& c = *caches[count == 1 ? 0 : rng() % count];  // RSS: the client decides the lcore
      AnswerCache::Hit hit;
      if (c.lookup(k.keys[std::min(name, kNames - 1)], 1, hit)) ++hits;
      else c.insert(k.keys[std::min(name, kNames - 1)], k.answer, 0);
    }
    ratio = static_cast<double>(hits) / kQueries;
  }
  state.counters["hit_ratio"] = ratio;
}
BENCHMARK(BM_HitRatio)
    ->Args({1, 0})
    ->Args({2, 1})->Args({2, 2})
    ->Args({4, 1})->Args({4, 2})
    ->Args({16, 1})->Args({16, 2})
    ->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
