// SPDX-License-Identifier: Apache-2.0
/// @file inflight_table.h
/// @brief One lcore's queries waiting for an upstream: what is needed to answer each client after
/// its packet is gone — the reply's headers (addresses already swapped), the parsed query, the
/// cache key and the client's spelling of the name. Fixed capacity: when it is full, the caller
/// answers SERVFAIL and counts it; memory never grows with load. Cookies carry a generation so a
/// stale completion can never answer the wrong client.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/dns_query.h"
#include "dataplane/packet.h"

namespace dotpin::dataplane {

struct StreamQuery;

/// Ethernet + 802.1Q + IPv6 + UDP.
inline constexpr std::size_t kMaxReplyHeader = 14 + 4 + 40 + 8;

struct InflightEntry {
  std::uint32_t generation = 0;
  bool live = false;
  /// The next client waiting for the same answer (an identical miss merged into this one), or 0.
  std::uint64_t next_waiter = 0;
  /// A query from the TCP service: answered into its buffer (header and view unused), or null.
  StreamQuery* stream = nullptr;
  std::uint16_t vi = 0;  ///< the client's view (its cache partition and shard)
  PacketView view;
  QueryInfo q;
  CacheKey key;
  std::uint8_t header[kMaxReplyHeader];
  std::uint8_t qname[255];
};

class InflightTable {
 public:
  explicit InflightTable(std::size_t capacity) : entries_(capacity) {
    free_.reserve(capacity);
    for (std::size_t i = capacity; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
  }

  /// Bounds each view's share: at most @p caps[v] entries of view v at a time (views without a
  /// cap: only the table's capacity), so that one tenant's slow misses cannot take every entry.
  void set_view_caps(std::vector<std::uint32_t> caps) {
    caps_ = std::move(caps);
    in_use_.assign(caps_.size(), 0);
  }
  /// A free entry's cookie for a query of view @p vi, or false when the table or the view's share
  /// is full.
  bool acquire(std::uint64_t& cookie, std::uint16_t vi = 0) noexcept {
    if (free_.empty()) return false;
    if (vi < caps_.size() && in_use_[vi] >= caps_[vi]) return false;
    const std::uint32_t i = free_.back();
    free_.pop_back();
    InflightEntry& e = entries_[i];
    e.live = true;
    e.next_waiter = 0;
    e.stream = nullptr;
    e.vi = vi;
    if (vi < in_use_.size()) ++in_use_[vi];
    ++e.generation;
    cookie = std::uint64_t{e.generation} << 32 | i;
    return true;
  }
  /// Entries view @p vi holds now.
  [[nodiscard]] std::uint32_t in_use(std::uint16_t vi) const noexcept { return vi < in_use_.size() ? in_use_[vi] : 0; }
  /// The live entry of @p cookie, or nullptr.
  InflightEntry* find(std::uint64_t cookie) noexcept {
    const auto i = static_cast<std::uint32_t>(cookie);
    if (i >= entries_.size()) return nullptr;
    InflightEntry& e = entries_[i];
    return e.live && e.generation == static_cast<std::uint32_t>(cookie >> 32) ? &e : nullptr;
  }
  void release(std::uint64_t cookie) noexcept {
    InflightEntry* e = find(cookie);
    if (e == nullptr) return;
    e->live = false;
    if (e->vi < in_use_.size()) --in_use_[e->vi];
    free_.push_back(static_cast<std::uint32_t>(cookie));
  }
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size() - free_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return entries_.size(); }

 private:
  std::vector<InflightEntry> entries_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> caps_, in_use_;  // per view (empty: no shares)
};

}  // namespace dotpin::dataplane
