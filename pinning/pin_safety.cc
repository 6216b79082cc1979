// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_safety.h"

#include <algorithm>

namespace dotpin {
namespace {

bool connectable(const UpstreamPins& up, UnixTime now) {
  return up.mode == PinMode::kReport || up.pins_in_window(now) > 0;
}

/// Why @p up has no pin valid now, in the operator's terms: what it has and when each counts.
std::string why_none(const UpstreamPins& up, UnixTime now) {
  if (up.pins.empty()) {
    switch (up.pins_from) {
      case PinsFrom::kTofu: return "it has no pin (nothing learned)";
      case PinsFrom::kDane: return "it has no pin (no secure TLSA record in force)";
      case PinsFrom::kFile: break;
    }
    return "it has no pin";
  }
  std::string s;
  for (const Pin& p : up.pins) {
    s += s.empty() ? "its pins: " : "; ";
    s += p.display_name();
    if (p.not_before && now < *p.not_before) s += " counts from " + format_utc(*p.not_before);
    else if (p.not_after && now >= *p.not_after) s += " stopped counting at " + format_utc(*p.not_after);
  }
  return s;
}

}  // namespace

std::string PinSafety::refusal() const {
  std::string s = "refused; the pins in force are unchanged:";
  for (const std::string& u : unsafe) s += "\n  " + u;
  s += "\n(--force to do it anyway)";
  return s;
}

PinSafety check_pin_change(const PinTable& before, const PinTable& after, UnixTime now) {
  PinSafety out;
  for (const UpstreamPins& up : after.upstreams) {
    if (up.mode != PinMode::kEnforce || up.pins_in_window(now) > 0) continue;
    const UpstreamPins* was = before.find(up.name);
    const bool had = was && connectable(*was, now);
    // A TOFU or DANE upstream new to the table waits for its first key by design.
    const bool new_from_file = !was && up.pins_from == PinsFrom::kFile;
    if (had || new_from_file) {
      out.unsafe.push_back("upstream '" + up.name + "' would have no pin valid now (" + why_none(up, now) +
                           "): every connection to it would be refused");
    } else {
      out.warnings.push_back("upstream '" + up.name + "' has no pin valid now (" + why_none(up, now) +
                             "): its connections are refused");
    }
  }
  // Report mode connects whatever the server presents: a change into it is a downgrade to an
  // unpinned path, so it is the operator's explicit choice (forced), never a side effect of a reload.
  for (const UpstreamPins& up : after.upstreams) {
    if (up.mode != PinMode::kReport) continue;
    const UpstreamPins* was = before.find(up.name);
    if (was && was->mode == PinMode::kReport) continue;
    out.unsafe.push_back("upstream '" + up.name + "' would be in mode 'report' (" +
                         (was ? "it enforces its pins now" : "new") +
                         "): a server whose key matches no pin would still be used; meant only for staging a rollover");
  }
  const auto any_connectable = [now](const PinTable& t) {
    for (const UpstreamPins& up : t.upstreams)
      if (connectable(up, now)) return true;
    return false;
  };
  if (any_connectable(before) && !any_connectable(after))
    out.unsafe.push_back("no upstream of the pool would have a pin valid now: every query that misses the cache "
                         "would fail SERVFAIL");
  return out;
}

bool trust_narrowed(const PinTable& before, const PinTable& after) {
  for (const UpstreamPins& was : before.upstreams) {
    const UpstreamPins* now = after.find(was.name);
    if (!now || now->address.to_string() != was.address.to_string() || now->auth_name != was.auth_name ||
        now->mode != was.mode)
      return true;
    for (const Pin& p : was.pins) {
      const bool kept = std::ranges::any_of(now->pins, [&](const Pin& q) {
        return q.form == p.form && q.scope == p.scope && q.digest == p.digest && q.digest512 == p.digest512;
      });
      if (!kept) return true;
    }
  }
  return false;
}

}  // namespace dotpin
