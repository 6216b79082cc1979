// SPDX-License-Identifier: Apache-2.0
#include "dataplane/api.h"

#include <algorithm>

namespace dotpin::dataplane {

std::string_view to_string(ViewCounter c) {
  switch (c) {
    case ViewCounter::kQueries: return "queries";
    case ViewCounter::kCacheHits: return "cache_hits";
    case ViewCounter::kCacheMisses: return "cache_misses";
    case ViewCounter::kAclRefused: return "acl_refused";
    case ViewCounter::kAclDropped: return "acl_dropped";
    case ViewCounter::kUpstreamAnswers: return "upstream_answers";
    case ViewCounter::kUpstreamServfails: return "upstream_servfails";
    case ViewCounter::kStaleAnswers: return "stale_answers";
    case ViewCounter::kRateLimited: return "ratelimited";
    case ViewCounter::kCount_: break;
  }
  return "?";
}

ViewTotals sum_view(const std::vector<LcoreView>& lcores, std::size_t view) {
  ViewTotals t;
  for (const LcoreView& v : lcores) {
    if (view >= v.stats.views.size()) continue;
    const ViewPublished& p = v.stats.views[view];
    for (std::size_t i = 0; i < kViewCounters; ++i) t.counters[i] += p.counters[i];
    t.cache += p.cache;
  }
  return t;
}

UpstreamTotals sum_upstreams(std::shared_ptr<const PinSnapshot> pins, const std::vector<LcoreView>& lcores,
                             std::size_t view) {
  UpstreamTotals t;
  t.pins = std::move(pins);
  if (!t.pins) return t;
  const auto& ups = t.pins->table.upstreams;
  t.stats.resize(ups.size());
  t.latency.resize(ups.size());
  std::vector<unsigned> with_rtt(ups.size(), 0);
  for (const LcoreView& v : lcores) {
    if (view >= v.stats.views.size()) continue;
    const ViewPublished& p = v.stats.views[view];
    for (std::size_t k = 0; k < p.upstreams.size() && k < p.upstream_names.size(); ++k) {
      // By name: an lcore may still publish the previous generation's order for one interval.
      std::size_t u = 0;
      while (u < ups.size() && ups[u].name != p.upstream_names[k]) ++u;
      if (u == ups.size()) continue;
      tls::accumulate(t.stats[u], p.upstreams[k]);
      if (k < p.latency.size()) t.latency[u].merge(p.latency[k]);
      if (p.upstreams[k].rtt_ewma_us > 0) {
        t.stats[u].rtt_ewma_us += p.upstreams[k].rtt_ewma_us;  // averaged over the lcores that have one
        ++with_rtt[u];
      }
    }
  }
  for (std::size_t u = 0; u < ups.size(); ++u)
    if (with_rtt[u] > 0) t.stats[u].rtt_ewma_us /= with_rtt[u];
  return t;
}

BusyShare busy_share(const LcoreView& v, std::uint64_t tsc_hz) {
  return busy_share(v.busy_cycles, v.idle_cycles, v.counters[static_cast<std::size_t>(Counter::kQueries)], tsc_hz);
}

std::string busy_text(const LcoreView& v, std::uint64_t tsc_hz) { return busy_text(busy_share(v, tsc_hz)); }

std::vector<LimitedPrefix> top_limited(const std::vector<LcoreView>& lcores) {
  std::vector<LimitedPrefix> out;
  for (const LcoreView& v : lcores)
    for (const LimitedPrefix& t : v.stats.top_limited) {
      if (t.family == 0) continue;
      auto it = std::find_if(out.begin(), out.end(), [&](const LimitedPrefix& o) {
        return o.family == t.family && o.key == t.key && o.prefix_len == t.prefix_len && o.view == t.view;
      });
      if (it == out.end()) out.push_back(t);
      else it->limited += t.limited;
    }
  std::sort(out.begin(), out.end(), [](const LimitedPrefix& a, const LimitedPrefix& b) { return a.limited > b.limited; });
  if (out.size() > kTopLimited) out.resize(kTopLimited);
  return out;
}

}  // namespace dotpin::dataplane
