// SPDX-License-Identifier: Apache-2.0
#include "dataplane/api.h"

#include <algorithm>

namespace dotpin::dataplane {

UpstreamTotals sum_upstreams(std::shared_ptr<const PinSnapshot> pins, const std::vector<LcoreView>& lcores) {
  UpstreamTotals t;
  t.pins = std::move(pins);
  if (!t.pins) return t;
  const auto& ups = t.pins->table.upstreams;
  t.stats.resize(ups.size());
  t.latency.resize(ups.size());
  std::vector<unsigned> with_rtt(ups.size(), 0);
  for (const LcoreView& v : lcores) {
    const PublishedStats& p = v.stats;
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

std::vector<LimitedPrefix> top_limited(const std::vector<LcoreView>& lcores) {
  std::vector<LimitedPrefix> out;
  for (const LcoreView& v : lcores)
    for (const LimitedPrefix& t : v.stats.top_limited) {
      if (t.family == 0) continue;
      auto it = std::find_if(out.begin(), out.end(), [&](const LimitedPrefix& o) {
        return o.family == t.family && o.key == t.key && o.prefix_len == t.prefix_len;
      });
      if (it == out.end()) out.push_back(t);
      else it->limited += t.limited;
    }
  std::sort(out.begin(), out.end(), [](const LimitedPrefix& a, const LimitedPrefix& b) { return a.limited > b.limited; });
  if (out.size() > kTopLimited) out.resize(kTopLimited);
  return out;
}

}  // namespace dotpin::dataplane
