// SPDX-License-Identifier: Apache-2.0
/// @file api.h
/// @brief The data plane as the control plane sees it — the one header control/ includes from
/// dataplane/. Two things cross the boundary:
///  - views, read by any thread without slowing an lcore: each lcore's packet counters (relaxed
///    atomic loads), the stats it publishes every 100 ms (a copy under a lock the lcore only ever
///    try-locks), the port's facts, and the pin generation the lcores are fed;
///  - typed commands, from the control thread: LcoreCommand values go to every worker lcore through
///    its mailbox and run there at the start of a loop pass; a new pin generation goes through the
///    RCU pin feed (dataplane/pin_feed.h), one pointer swap the lcores adopt on their next pass.
/// Nothing here names a Worker, a shard, a port's mempool or DPDK. The pin store (which numbers
/// generations and persists the file) is the control plane's; the data plane only receives
/// snapshots. tests/control/fake_data_plane.h implements this for control's unit tests.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/latency_histogram.h"
#include "common/result.h"
#include "dataplane/busy_share.h"
#include "dataplane/cache_stats.h"
#include "dataplane/counters.h"
#include "dataplane/rate_limit.h"
#include "dataplane/port_stats.h"
#include "dataplane/tcp_options.h"
#include "pinning/pin_store.h"
#include "tls/upstream_stats.h"

namespace dotpin::dataplane {

/// One view's queries on one lcore (written by that lcore only).
enum class ViewCounter : std::uint8_t {
  kQueries,          ///< valid queries of allowed clients of the view
  kCacheHits,
  kCacheMisses,
  kAclRefused,       ///< clients of the view outside its 'allow', answered REFUSED
  kAclDropped,       ///< ... dropped (acl.action = "drop")
  kUpstreamAnswers,  ///< answers from its upstreams sent to its clients
  kUpstreamServfails,///< SERVFAIL because none of its pinned upstreams answered
  kStaleAnswers,     ///< served stale from its cache (RFC 8767)
  kRateLimited,      ///< queries of its clients over their rate limit (dropped or slipped; not in kQueries)
  kCount_
};
std::string_view to_string(ViewCounter c);
inline constexpr std::size_t kViewCounters = static_cast<std::size_t>(ViewCounter::kCount_);

/// One view's part of what a worker publishes.
struct ViewPublished {
  CacheStats cache;
  std::vector<tls::UpstreamStats> upstreams;
  std::vector<LatencyHistogram> latency;    ///< per upstream, µs
  std::vector<std::string> upstream_names;  ///< the same order as upstreams
  std::uint64_t pin_generation = 0;
  std::array<std::uint64_t, kViewCounters> counters{};
};

/// What one worker publishes for other threads (every 100 ms and when it stops).
struct PublishedStats {
  CacheStats cache;  ///< summed over its views
  std::size_t inflight = 0;
  std::vector<ViewPublished> views;  ///< index = the view's position in the config
  std::uint64_t published = 0;  ///< how many publications so far
  TopLimited top_limited{};     ///< the client prefixes this lcore limited most ([ratelimit])
};

/// One worker lcore as other threads see it.
struct LcoreView {
  unsigned lcore = 0;
  std::uint16_t queue = 0;
  bool running = true;  ///< false once its loop stopped by itself (loop_aborted): it takes no packets
  std::array<std::uint64_t, static_cast<std::size_t>(Counter::kCount_)> counters{};
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount_)> drops{};
  /// Its loop's TSC cycles in passes that did something and in idle passes (counters.h LoopCycles).
  std::uint64_t busy_cycles = 0, idle_cycles = 0, busy_passes = 0, idle_passes = 0;
  PublishedStats stats;  ///< as of the lcore's last publication (at most 100 ms old)
};

/// Per-upstream stats of view @p view summed over the lcores, for the pin generation in @p pins
/// (index = position in its table). Lcores that have not published the generation yet are matched
/// by upstream name.
struct UpstreamTotals {
  std::shared_ptr<const PinSnapshot> pins;
  std::vector<tls::UpstreamStats> stats;
  std::vector<LatencyHistogram> latency;  ///< answered queries' round trips, µs
};
UpstreamTotals sum_upstreams(std::shared_ptr<const PinSnapshot> pins, const std::vector<LcoreView>& lcores,
                             std::size_t view = 0);
/// View @p view's counters and cache summed over @p lcores.
struct ViewTotals {
  std::array<std::uint64_t, kViewCounters> counters{};
  CacheStats cache;
};
ViewTotals sum_view(const std::vector<LcoreView>& lcores, std::size_t view);

/// A view as status shows it.
struct ViewFacts {
  std::string name;
  std::optional<std::uint16_t> vlan;
  std::vector<std::string> clients;  ///< as configured (empty: every address)
  std::string pin_file;
  std::string policy = "round-robin";  ///< how its pool picks an upstream
};

/// What @p v's work cost (busy_share.h), per query of Counter::kQueries.
BusyShare busy_share(const LcoreView& v, std::uint64_t tsc_hz);
std::string busy_text(const LcoreView& v, std::uint64_t tsc_hz);

/// The client prefixes limited most ([ratelimit]), summed over @p lcores (a client's queries may
/// reach more than one lcore), most limited first, at most kTopLimited.
std::vector<LimitedPrefix> top_limited(const std::vector<LcoreView>& lcores);

/// The client-facing port, as status shows it.
struct PortFacts {
  std::string name;
  std::array<std::uint8_t, 6> mac{};
  unsigned queues = 0;
  bool rss = false;
};

// --- Commands to every worker lcore ---
/// Drops every cached answer, or those whose owner name is @p name (lower-case wire format, any
/// type and class). Result: entries removed.
struct FlushCache {
  std::vector<std::uint8_t> name;
  std::size_t view = kAllViews;  ///< one view's partition, or every view's
  static constexpr std::size_t kAllViews = ~std::size_t{0};
};
/// Takes an upstream out of rotation (its connections finish what they hold, then close) or puts
/// it back. Result: lcores that know the upstream.
struct SetUpstreamDrained {
  std::string upstream;
  bool drained = true;
  std::size_t view = 0;  ///< whose pool the upstream is in
};
using LcoreCommand = std::variant<FlushCache, SetUpstreamDrained>;

struct CommandResult {
  std::uint64_t total = 0;    ///< the command's result summed over the lcores that ran it
  std::vector<unsigned> late;  ///< lcores that did not run it in time (it may still run later)
};

class DataPlane {
 public:
  virtual ~DataPlane() = default;

  // Views (any thread).
  [[nodiscard]] virtual std::vector<LcoreView> lcore_views() const = 0;
  [[nodiscard]] virtual PortFacts port() const = 0;
  [[nodiscard]] virtual PortStats port_stats() const = 0;
  [[nodiscard]] virtual std::size_t worker_count() const = 0;
  /// The TSC's frequency: what LcoreView's cycles are counted in (0: unknown).
  [[nodiscard]] virtual std::uint64_t tsc_hz() const { return 0; }
  [[nodiscard]] virtual std::chrono::system_clock::time_point started_at() const = 0;
  /// The views in match order (at least one: "default" without [[view]] sections).
  [[nodiscard]] virtual std::vector<ViewFacts> views() const = 0;
  /// View @p view's pin generation the lcores are fed (the last one published; null: no such view).
  [[nodiscard]] virtual std::shared_ptr<const PinSnapshot> pins(std::size_t view = 0) const = 0;
  /// The TCP service's counters (enabled false: no TCP for clients).
  [[nodiscard]] virtual TcpStats tcp_stats() const { return {}; }
  /// DoT for clients (port 853): the same service's DoT connections and counters.
  [[nodiscard]] virtual TcpStats dot_stats() const { return {}; }
  [[nodiscard]] UpstreamTotals upstream_totals(std::size_t view = 0) const {
    return sum_upstreams(pins(view), lcore_views(), view);
  }

  // Commands (the control thread).
  /// Runs @p command on every running worker lcore and waits up to @p wait for each.
  virtual CommandResult execute(const LcoreCommand& command, std::chrono::milliseconds wait) = 0;
  /// Feeds @p snapshot (validated, numbered by the control plane's PinStore of view @p view) to the
  /// lcores as that view's pins and waits up to @p wait for every running lcore to adopt it; the
  /// error names the lcores that did not yet (they will on their next loop pass: the generation is
  /// in force either way). Other views' shards are not touched.
  virtual Status publish_pins(std::shared_ptr<const PinSnapshot> snapshot, std::chrono::milliseconds wait,
                              std::size_t view = 0) = 0;
};

}  // namespace dotpin::dataplane
