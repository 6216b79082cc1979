// SPDX-License-Identifier: Apache-2.0
/// @file cache_stats.h
/// @brief One lcore's answer-cache counters and size, as the cache keeps them and as the control
/// plane reads them in the lcore's published stats (api.h).
#pragma once

#include <cstdint>

namespace dotpin::dataplane {

struct CacheStats {
  std::uint64_t hits = 0, misses = 0, expired = 0, inserts = 0, replaced = 0, evictions = 0, not_stored = 0;
  std::uint64_t entries = 0, bytes = 0;
  /// Adds @p o's counters and size (a view's partitions summed over lcores, or an lcore's views).
  CacheStats& operator+=(const CacheStats& o) noexcept {
    hits += o.hits, misses += o.misses, expired += o.expired, inserts += o.inserts, replaced += o.replaced;
    evictions += o.evictions, not_stored += o.not_stored, entries += o.entries, bytes += o.bytes;
    return *this;
  }
};

}  // namespace dotpin::dataplane
