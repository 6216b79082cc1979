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
};

}  // namespace dotpin::dataplane
