// SPDX-License-Identifier: Apache-2.0
#include "tls/upstream_stats.h"

#include <algorithm>

namespace dotpin::tls {

std::string_view to_string(UpstreamHealth h) {
  switch (h) {
    case UpstreamHealth::kUp: return "up";
    case UpstreamHealth::kBackingOff: return "backing_off";
    case UpstreamHealth::kPinFailed: return "pin_failed";
  }
  return "?";
}

void accumulate(UpstreamStats& sum, const UpstreamStats& s) {
  for (const UpstreamCounterField& f : kUpstreamCounters) sum.*f.member += s.*f.member;
  for (std::size_t r = 0; r < sum.failures.size(); ++r) sum.failures[r] += s.failures[r];
  sum.drained = sum.drained || s.drained;
  sum.health = std::max(sum.health, s.health);
  if (s.last_refusal.observed_count > 0 && s.last_refusal_at >= sum.last_refusal_at) {
    sum.last_refusal = s.last_refusal;
    sum.last_refusal_at = s.last_refusal_at;
  }
  if (s.last_accepted.observed_count > 0) sum.last_accepted = s.last_accepted;
}

}  // namespace dotpin::tls
