// SPDX-License-Identifier: Apache-2.0
/// @file counters.h
/// @brief One worker lcore's counters: an outcome for every packet and a reason for every drop.
/// Cache-line aligned and written only by their lcore (relaxed load + store: no locked
/// instruction on the hot path); other threads read them with relaxed loads and sum over lcores.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "dataplane/packet.h"

namespace dotpin::dataplane {

enum class Counter : std::uint8_t {
  kRxPackets,
  kTxPackets,
  kTxDropped,          ///< the TX queue was full
  kQueries,            ///< valid queries from allowed clients
  kCacheHits,
  kCacheMisses,
  kForwarded,          ///< misses handed to the DoT shard
  kMerged,             ///< misses that joined an identical query already in flight
  kUpstreamAnswers,    ///< answers from an upstream sent to a client
  kUpstreamServfails,  ///< SERVFAIL + EDE because no pinned upstream answered (shard), per client
  kUpstreamBadAnswer,  ///< SERVFAIL because the upstream's answer could not be read, per client
                       ///< (not also in kUpstreamServfails)
  kInflightFull,       ///< miss refused with SERVFAIL: this lcore's in-flight table was full
  kShardFull,          ///< miss refused with SERVFAIL: the shard had no room
  kCacheInserts,
  kTruncated,          ///< answers sent with TC=1 (larger than the client's UDP size)
  kAclRefused,         ///< clients outside the ACL answered REFUSED
  kAclDropped,         ///< clients outside the ACL dropped (acl.action = "drop")
  kFormErr,
  kNotImp,
  kRefused,
  kBadVers,
  kDropShort,          ///< UDP/53 payload shorter than a DNS header
  kDropResponse,       ///< a DNS response sent to us
  kArpReplies,
  kNdReplies,
  kEchoReplies,
  kMultiSegment,       ///< chained mbufs are not parsed
  kNoMbuf,             ///< an answer from upstream lost: the mempool was empty
  kShutdownUnanswered, ///< still in flight when the drain deadline passed
  kPinGenerations,     ///< pin-set generations adopted after the first (pins reload/add/remove)
  kLoopAborted,        ///< the loop met an exception it had no handler for: logged, lcore stopped
  kStaleAnswers,       ///< answered from an expired cache entry (RFC 8767) because no pinned upstream answered
  kRateLimited,        ///< queries over their client prefix's [ratelimit] qps, dropped (not in kQueries)
  kRateLimitSlipped,   ///< queries over the limit answered TC=1 with no records instead (slip; not in kQueries)
  kRrlDropped,         ///< REFUSED/SERVFAIL/NXDOMAIN responses over the prefix's error_qps, not sent
  kRrlSlipped,         ///< such responses sent as TC=1 with no records instead (slip)
  kTcpQueries,         ///< queries from the TCP service (DNS over TCP) this lcore answered or forwarded (also in kQueries)
  kTcpRefused,         ///< TCP queries from clients outside the ACL, answered REFUSED
  kToKernel,           ///< TCP segments to our DNS ports handed to the kernel (exception path)
  kToKernelDropped,    ///< such segments lost: the exception port's TX queue was full
  kFromKernel,         ///< the kernel's TCP segments sent to clients
  kKernelNoHop,        ///< the kernel's segments dropped: no learned MAC for the client (TCP retransmits)
  kKernelOther,        ///< the kernel's frames that are not TCP from our DNS ports (its own chatter), dropped
  kViewUnmatchedRefused,  ///< queries from clients that match no [[view]], answered REFUSED (acl.action = "refuse")
  kViewUnmatchedDropped,  ///< queries (and TCP segments) from clients that match no [[view]], dropped
  kCount_
};
std::string_view to_string(Counter c);

/// A counter with one writer: the lcore that owns it.
class OwnedCounter {
 public:
  void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

/// Where an lcore's time went, in TSC cycles: passes of its loop that received, sent or completed
/// something (busy: what the work cost, polling of that pass included) and passes that found
/// nothing to do (idle: a poll-mode lcore spins). Busy cycles per answer compare with a kernel
/// peer's CPU time per answer; wall time of a spinning lcore would not.
struct LoopCycles {
  OwnedCounter busy_cycles, idle_cycles, busy_passes, idle_passes;

  /// One pass from TSC @p since to @p now: what Worker::run does after each pass
  /// (bench/pipeline_bench.cc BM_PassAccounting measures it with the TSC read).
  void account(bool busy, std::uint64_t since, std::uint64_t now) noexcept {
    if (busy) {
      busy_cycles.add(now - since);
      busy_passes.add();
    } else {
      idle_cycles.add(now - since);
      idle_passes.add();
    }
  }
};

struct alignas(64) LcoreCounters {
  std::array<OwnedCounter, static_cast<std::size_t>(Counter::kCount_)> counters;
  std::array<OwnedCounter, static_cast<std::size_t>(DropReason::kCount_)> drops;
  LoopCycles cycles;
  OwnedCounter& operator[](Counter c) noexcept { return counters[static_cast<std::size_t>(c)]; }
  const OwnedCounter& operator[](Counter c) const noexcept { return counters[static_cast<std::size_t>(c)]; }
  OwnedCounter& operator[](DropReason r) noexcept { return drops[static_cast<std::size_t>(r)]; }
  const OwnedCounter& operator[](DropReason r) const noexcept { return drops[static_cast<std::size_t>(r)]; }
};

}  // namespace dotpin::dataplane
