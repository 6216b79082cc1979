// SPDX-License-Identifier: Apache-2.0
#include "dataplane/rate_limit.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

namespace dotpin::dataplane {
namespace {

constexpr std::uint64_t kNsPerSecond = 1'000'000'000;



}  // namespace

std::string LimitedPrefix::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family == 4) {
    const std::uint8_t a[4] = {static_cast<std::uint8_t>(key >> 24), static_cast<std::uint8_t>(key >> 16),
                               static_cast<std::uint8_t>(key >> 8), static_cast<std::uint8_t>(key)};
    inet_ntop(AF_INET, a, text, sizeof text);
  } else if (family == 6) {
    std::uint8_t a[16] = {};
    for (int i = 0; i < 8; ++i) a[i] = static_cast<std::uint8_t>(key >> (56 - 8 * i));
    inet_ntop(AF_INET6, a, text, sizeof text);
  } else {
    return {};
  }
  return std::string(text) + "/" + std::to_string(prefix_len);
}

RateLimiter::RateLimiter(const RateLimitOptions& o, std::uint64_t seed)
    : v6_prefix_(std::clamp<std::uint8_t>(o.ipv6_prefix, 1, 64)), slip_(o.slip), exempt_(o.exempt) {
  auto bucket = [](std::uint32_t qps, std::uint32_t burst, std::uint64_t& interval, std::uint64_t& tolerance) {
    if (qps == 0) return;
    interval = std::max<std::uint64_t>(1, kNsPerSecond / qps);
    tolerance = interval * (burst == 0 ? qps : burst);
  };
  Rates global;
  bucket(o.qps, o.burst, global.query_interval, global.query_tolerance);
  bucket(o.error_qps, o.error_burst, global.error_interval, global.error_tolerance);
  rates_.fill(global);
  for (std::size_t v = 0; v < o.views.size() && v < kUnmatchedView; ++v) {
    if (!o.views[v].set) continue;
    Rates own;
    bucket(o.views[v].qps, o.views[v].burst, own.query_interval, own.query_tolerance);
    bucket(o.views[v].error_qps, o.views[v].error_burst, own.error_interval, own.error_tolerance);
    rates_[v] = own;
  }
  for (const Rates& r : rates_) {
    limits_queries_ = limits_queries_ || r.query_interval != 0;
    limits_errors_ = limits_errors_ || r.error_interval != 0;
  }
  v6_mask_ = v6_prefix_ == 64 ? ~0ULL : ~(~0ULL >> v6_prefix_);
  seed_ = seed != 0 ? seed : (static_cast<std::uint64_t>(std::random_device{}()) << 32 | std::random_device{}());
  if (!o.enabled()) return;  // nothing is looked up: no table
  const std::size_t buckets = std::bit_ceil(std::max<std::size_t>(o.entries, kWays)) / kWays;
  mask_ = buckets - 1;
  // The top log2(buckets) bits of the hash pick the bucket (one bucket: shift 63, then the mask).
  shift_ = static_cast<unsigned>(std::min(63, 64 - std::countr_zero(buckets)));

  buckets_ = std::make_unique<Bucket[]>(buckets);  // value-initialised: every entry empty
}


void RateLimiter::note_limited(const Entry& e) noexcept {
  // A running top list: the entry's count replaces its own slot, else the smallest when larger.
  // Only limited traffic comes here, so the hot path's passing queries never pay for it.
  LimitedPrefix* slot = nullptr;
  for (LimitedPrefix& t : top_)
    if (t.family == e.family && t.key == e.key && t.view == e.view) slot = &t;
  if (slot == nullptr) {
    slot = &top_[0];
    for (LimitedPrefix& t : top_)
      if (t.limited < slot->limited) slot = &t;
    if (slot->family != 0 && slot->limited >= e.limited) return;
    slot->family = e.family;
    slot->key = e.key;
    slot->view = e.view;
    slot->prefix_len = e.family == 4 ? 32 : v6_prefix_;
    slot->limited = 0;
  }
  // An entry evicted and seen again counts from 0: keep the larger of the two counts.
  slot->limited = std::max<std::uint64_t>(slot->limited + 1, e.limited);
}

TopLimited RateLimiter::top() const noexcept {
  TopLimited out = top_;
  std::sort(out.begin(), out.end(), [](const LimitedPrefix& a, const LimitedPrefix& b) {
    return a.family != 0 && (b.family == 0 || a.limited > b.limited);
  });
  return out;
}

}  // namespace dotpin::dataplane
