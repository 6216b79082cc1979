// SPDX-License-Identifier: Apache-2.0
/// @file rate_limit.h
/// @brief Per-client rate limits on the fast path: a token bucket per client prefix (IPv4 /32, IPv6
/// a prefix length the operator sets) for queries, and a second one for error responses (REFUSED,
/// SERVFAIL, NXDOMAIN: response-rate limiting against reflection).
///
/// Each bucket is one GCRA state (the "theoretical arrival time"): a query at time t passes when
/// max(tat, t) + interval - t <= burst * interval, and then tat = max(tat, t) + interval. That is
/// a token bucket of `burst` tokens refilled at `qps` per second, kept in one 64-bit word with no
/// division on the hot path. The table is per lcore, fixed-size and set-associative (two 32-byte
/// entries to a 64-byte bucket), allocated once: a client not in it takes the way that was idle
/// longest and starts with a full bucket. The hash (one multiply of the seeded key) is not meant
/// to resist aimed collisions, and need not: an entry pushed out comes back with a full bucket, so
/// colliding with a client can only give it more, never less; and a source that cycles its own
/// entry out with spoofed neighbours gains what spoofing many sources gives anyway, one burst per
/// address (the limit is per source, not global).
/// Over-limit traffic is dropped, except every `slip`-th, which is answered with TC=1 and no
/// records (as RRL does): a real client behind the address retries over TCP, a spoofed victim
/// gets a reply no larger than the query.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/acl.h"

namespace dotpin::dataplane {

/// One view's own limits ([[view]] ratelimit_*): they replace [ratelimit]'s for its clients.
struct ViewRates {
  bool set = false;                 ///< false: the view has [ratelimit]'s
  std::uint32_t qps = 0, burst = 0, error_qps = 0, error_burst = 0;
};

struct RateLimitOptions {
  std::uint32_t qps = 0;            ///< queries per second per client prefix; 0: no query limit
  std::uint32_t burst = 0;          ///< bucket size; 0: the same as qps (one second's worth)
  std::uint32_t error_qps = 0;      ///< REFUSED/SERVFAIL/NXDOMAIN responses per second per prefix; 0: none
  std::uint32_t error_burst = 0;    ///< 0: the same as error_qps
  std::uint8_t ipv6_prefix = 56;    ///< IPv6 clients are limited per /ipv6_prefix (32..64)
  std::uint32_t slip = 2;           ///< every slip-th limited query is answered TC=1; 0: drop all
  std::uint32_t entries = 65536;    ///< table size per lcore (rounded up to a power of two, >= 2)
  Acl exempt;                       ///< clients never limited (monitoring, a NAT pool, ...); empty: none
  std::vector<ViewRates> views;     ///< by view position: a view's own limits (empty: every view has these)
  [[nodiscard]] bool enabled() const noexcept {
    return qps != 0 || error_qps != 0 ||
           std::any_of(views.begin(), views.end(), [](const ViewRates& v) { return v.set && (v.qps != 0 || v.error_qps != 0); });
  }
};

/// A prefix that has been limited, for `dotpinctl stats` and /metrics.
struct LimitedPrefix {
  std::uint64_t key = 0;        ///< IPv4: the address; IPv6: the prefix's first 64 bits
  std::uint8_t family = 0;      ///< 0: unused slot, 4 or 6
  std::uint8_t prefix_len = 0;  ///< 32 for IPv4, ipv6_prefix for IPv6
  std::uint8_t view = 0;        ///< the client's view (its position; kUnmatchedView: none)
  std::uint64_t limited = 0;    ///< queries and error responses limited (dropped or slipped)
  [[nodiscard]] std::string to_string() const;  ///< "198.18.0.2/32", "2001:db8:1:200::/56"
};
inline constexpr std::size_t kTopLimited = 8;
/// The rate-limit "view" of clients that match no [[view]] (views are 0..254).
inline constexpr std::uint8_t kUnmatchedView = 255;
using TopLimited = std::array<LimitedPrefix, kTopLimited>;

class RateLimiter {
 public:
  enum class Verdict : std::uint8_t { kPass, kDrop, kSlip };

  explicit RateLimiter(const RateLimitOptions& options, std::uint64_t seed = 0);

  /// Whether @p addr is exempt ([ratelimit] exempt): its queries and error responses pass.
  [[nodiscard]] bool exempt(const std::uint8_t* addr, bool ipv6) const noexcept {
    return exempt_.size() != 0 && (ipv6 ? exempt_.allows_ipv6(addr) : exempt_.allows_ipv4(addr));
  }
  /// Some client (of some view) has a query / error-response limit.
  [[nodiscard]] bool limits_queries() const noexcept { return limits_queries_; }
  [[nodiscard]] bool limits_errors() const noexcept { return limits_errors_; }
  /// The clients of view @p view have a query limit.
  [[nodiscard]] bool limits_queries_of(std::uint8_t view) const noexcept { return rates_[view].query_interval != 0; }

  /// Where a client's entry lives: found by locate(), which also prefetches its bucket, so that a
  /// burst can locate every client first and decide later (as the worker does with cache lookups).
  struct Ref {
    std::uint64_t key = 0;
    std::size_t bucket = 0;
    std::uint8_t family = 0;
    std::uint8_t view = 0;
  };
  /// Only with limits_queries() or limits_errors(): there is no table otherwise. A client's bucket
  /// is its prefix's in its view: the same address in two views (two VLANs) has two buckets.
  [[nodiscard]] inline Ref locate(const std::uint8_t* addr, bool ipv6, std::uint8_t view = 0) const noexcept;

  /// A query from a located client at @p now_ns (a monotonic clock); the caller checks exempt().
  Verdict query(const Ref& r, std::uint64_t now_ns) noexcept { return admit<false>(r, now_ns); }
  /// A query from @p addr (4 or 16 bytes, network order).
  Verdict query(const std::uint8_t* addr, bool ipv6, std::uint64_t now_ns, std::uint8_t view = 0) noexcept {
    return limits_queries() && !exempt(addr, ipv6) ? admit<false>(locate(addr, ipv6, view), now_ns) : Verdict::kPass;
  }
  /// An error response (any RCODE but NOERROR) about to be sent to @p addr (of view @p view).
  Verdict error_response(const std::uint8_t* addr, bool ipv6, std::uint64_t now_ns, std::uint8_t view = 0) noexcept {
    return limits_errors() && !exempt(addr, ipv6) ? admit<true>(locate(addr, ipv6, view), now_ns) : Verdict::kPass;
  }
  /// The prefixes limited most since start (a running top list, updated only when one is limited;
  /// unused slots have family 0), most limited first.
  [[nodiscard]] TopLimited top() const noexcept;
  [[nodiscard]] std::size_t capacity() const noexcept { return buckets_ ? (mask_ + 1) * kWays : 0; }

 private:
  static constexpr std::size_t kWays = 2;
  struct Entry {
    std::uint64_t key;
    std::uint64_t tat;        // queries
    std::uint64_t error_tat;  // error responses
    std::uint32_t limited;    // saturates
    std::uint16_t slipped;    // limited ones since the last slip
    std::uint8_t family;      // 0: empty
    std::uint8_t view;        // the client's view: part of the key
  };
  static_assert(sizeof(Entry) == 32);
  struct alignas(64) Bucket {
    std::array<Entry, kWays> ways;
  };

  template <bool kError>
  Verdict admit(const Ref& r, std::uint64_t now_ns) noexcept;
  void note_limited(const Entry& e) noexcept;

  // GCRA parameters per view (index 255: clients in no view); 0: that view is not limited.
  struct Rates {
    std::uint64_t query_interval = 0, query_tolerance = 0, error_interval = 0, error_tolerance = 0;
  };
  std::array<Rates, 256> rates_{};
  bool limits_queries_ = false, limits_errors_ = false;
  std::uint64_t v6_mask_ = 0;
  std::uint8_t v6_prefix_ = 56;
  std::uint32_t slip_ = 2;
  std::uint64_t seed_ = 0;
  std::size_t mask_ = 0;
  unsigned shift_ = 63;
  std::unique_ptr<Bucket[]> buckets_;
  Acl exempt_;
  TopLimited top_{};
};

inline RateLimiter::Ref RateLimiter::locate(const std::uint8_t* addr, bool ipv6, std::uint8_t view) const noexcept {
  Ref r;
  r.view = view;
  if (ipv6) {
    std::uint64_t v6;
    std::memcpy(&v6, addr, 8);
    r.key = __builtin_bswap64(v6) & v6_mask_;
  } else {
    std::uint32_t v4;
    std::memcpy(&v4, addr, 4);
    r.key = __builtin_bswap32(v4);
  }
  r.family = ipv6 ? 6 : 4;
  // Multiplicative hashing of the seeded key: the product's top bits pick the bucket.
  r.bucket = static_cast<std::size_t>(((r.key ^ seed_) + r.family + (std::uint64_t{view} << 3)) * 0x9E3779B97F4A7C15ULL >>
                                      shift_) &
             mask_;
  __builtin_prefetch(&buckets_[r.bucket], 1);
  return r;
}

// Inline: it runs per query on the hot path (the table miss and the limited path are the cold parts).
template <bool kError>
inline RateLimiter::Verdict RateLimiter::admit(const Ref& r, std::uint64_t now) noexcept {
  const Rates& rates = rates_[r.view];
  const std::uint64_t interval = kError ? rates.error_interval : rates.query_interval;
  if (interval == 0) return Verdict::kPass;  // the client's view has no such limit
  Bucket& b = buckets_[r.bucket];
  Entry* e = nullptr;
  for (Entry& w : b.ways)
    if (w.family == r.family && w.key == r.key && w.view == r.view) e = &w;
  if (e == nullptr) {
    // The way idle longest (its later tat is the older) makes room; empty ways have tat 0.
    e = &b.ways[0];
    for (Entry& w : b.ways)
      if (std::max(w.tat, w.error_tat) < std::max(e->tat, e->error_tat)) e = &w;
    *e = Entry{r.key, now, now, 0, 0, r.family, r.view};
  }
  std::uint64_t& tat = kError ? e->error_tat : e->tat;
  const std::uint64_t tolerance = kError ? rates.error_tolerance : rates.query_tolerance;
  const std::uint64_t next = std::max(tat, now) + interval;
  if (next - now <= tolerance) {
    tat = next;
    return Verdict::kPass;
  }
  if (e->limited != UINT32_MAX) ++e->limited;
  note_limited(*e);
  if (slip_ != 0 && ++e->slipped >= slip_) {
    e->slipped = 0;
    return Verdict::kSlip;
  }
  return Verdict::kDrop;
}

}  // namespace dotpin::dataplane
