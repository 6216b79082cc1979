// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_set.h"

#include <algorithm>

namespace dotpin {

std::string_view to_string(PinMode mode) {
  switch (mode) {
    case PinMode::kEnforce: return "enforce";
    case PinMode::kReport: return "report";
  }
  return "?";
}

std::optional<PinMode> pin_mode_from_string(std::string_view text) {
  if (text == "enforce") return PinMode::kEnforce;
  if (text == "report") return PinMode::kReport;
  return std::nullopt;
}

std::string Pin::display_name() const {
  if (!label.empty()) return "'" + label + "'";
  return "'" + pin_base64(digest).substr(0, 8) + "...'";
}

std::size_t UpstreamPins::pins_in_window(UnixTime now) const noexcept {
  return static_cast<std::size_t>(std::ranges::count_if(pins, [&](const Pin& p) { return p.in_window(now); }));
}

const UpstreamPins* PinTable::find(std::string_view name) const noexcept {
  for (const auto& u : upstreams)
    if (u.name == name) return &u;
  return nullptr;
}

}  // namespace dotpin
