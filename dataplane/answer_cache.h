// SPDX-License-Identifier: Apache-2.0
/// @file answer_cache.h
/// @brief Hot path: one lcore's answer cache. Set-associative (8 ways a bucket, one bucket per
/// lookup, tags first so a miss touches one cache line), keyed by the lower-cased name, type,
/// class and the DO/CD bits; TTL-aware (an expired entry is a miss); bounded in entries and bytes;
/// a full bucket evicts the entry that expires first. Lookups never allocate; inserts (after an
/// upstream answer) allocate one record. Single-threaded by design: each lcore owns its own
/// (docs/architecture.md says why per-lcore beat shared here).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/cache_stats.h"
#include "dataplane/dns_query.h"
#include "dataplane/dns_reply.h"

namespace dotpin::dataplane {

struct CacheOptions {
  std::size_t entries = 65536;          ///< rounded up to a power of two (8 per bucket)
  std::size_t max_bytes = 64u << 20;    ///< records (key + answer + TTL offsets) in all
  std::size_t max_answer = 4096;        ///< larger answers are not cached
};

class AnswerCache {
 public:
  explicit AnswerCache(const CacheOptions& options);
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  struct Hit {
    StoredAnswer answer;
    std::uint32_t age = 0;  ///< seconds since it was stored
  };

  /// Brings the key's bucket into the CPU cache ahead of lookup() (burst processing).
  void prefetch(const CacheKey& key) const noexcept;
  /// Second stage, once the bucket is in: prefetches the record whose tag matches (the 1M-name
  /// working set lives in DRAM, and the record is the lookup's second dependent miss).
  void prefetch_record(const CacheKey& key) const noexcept;
  /// A live entry for @p key at time @p now (seconds), or false. The hit's spans stay valid until
  /// the next insert() or flush().
  bool lookup(const CacheKey& key, std::uint32_t now, Hit& hit) noexcept;
  /// Serve-stale (RFC 8767): an entry for @p key that expired less than @p stale_max seconds
  /// before @p now (a live one too). Only when no upstream could answer: not on the hot path.
  bool lookup_stale(const CacheKey& key, std::uint32_t now, std::uint32_t stale_max, Hit& hit) noexcept;
  /// Entries stored before this call are never served stale (they stay until they expire): the
  /// pins they were fetched under may have been revoked (a compromised key). O(1).
  void revoke_stale() noexcept { ++stale_epoch_; }
  /// Stores @p answer (answer.ttl > 0) under @p key at time @p now. False if it was not kept.
  bool insert(const CacheKey& key, const PreparedAnswer& answer, std::uint32_t now);
  /// Drops every entry; returns how many there were.
  std::size_t flush();
  /// Drops every entry whose owner name is @p name (lower-case wire format), whatever its type,
  /// class and flags; returns how many. Walks the whole table: for the control plane, not per packet.
  std::size_t flush_name(std::span<const std::uint8_t> name);

  [[nodiscard]] const CacheStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return buckets_.size() * kWays; }

 private:
  static constexpr unsigned kWays = 8;
  struct Record;
  struct alignas(64) Bucket {
    std::uint32_t tag[kWays] = {};   // 0: empty way
    Record* rec[kWays] = {};
  };
  void drop(Bucket& b, unsigned way) noexcept;
  /// The record stored under @p key, live or expired (one bucket, tags first); null: none.
  Record* find(const CacheKey& key) const noexcept;
  static void fill(Record& r, std::uint32_t now, Hit& hit) noexcept;

  CacheOptions options_;
  std::vector<Bucket> buckets_;
  std::uint64_t mask_ = 0;
  std::uint32_t stale_epoch_ = 0;
  CacheStats stats_;
};

}  // namespace dotpin::dataplane
