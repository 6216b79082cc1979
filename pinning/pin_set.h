// SPDX-License-Identifier: Apache-2.0
/// @file pin_set.h
/// @brief The pin model: pins with labels and validity windows, grouped per upstream.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/endpoint.h"
#include "common/time_util.h"
#include "pinning/spki_pin.h"

namespace dotpin {

/// What happens when an upstream's chain matches none of its pins.
enum class PinMode {
  kEnforce,  ///< refuse the connection (the default)
  kReport,   ///< connect anyway, count and log the mismatch (for staging a rollover)
};

std::string_view to_string(PinMode mode);
std::optional<PinMode> pin_mode_from_string(std::string_view text);

/// One pin-sha256 value with its operator metadata.
struct Pin {
  PinDigest digest{};
  std::string label;                  ///< "primary", "backup", ... (may be empty)
  std::optional<UnixTime> not_before;  ///< inclusive
  std::optional<UnixTime> not_after;   ///< exclusive: the pin stops counting at this instant
  int line = 0;                       ///< where it was configured, for messages

  /// True when @p now lies in [not_before, not_after).
  [[nodiscard]] bool in_window(UnixTime now) const noexcept {
    return (!not_before || now >= *not_before) && (!not_after || now < *not_after);
  }
  /// "'backup' (abc...=)" style name for messages: the label if any, else the first 8 base64 chars.
  [[nodiscard]] std::string display_name() const;
};

/// The pin set and identity of one DoT upstream.
struct UpstreamPins {
  std::string name;       ///< operator's name, unique in a table; used in stats and metrics labels
  Endpoint address;       ///< IP literal and port (853 by default)
  std::string auth_name;  ///< authentication domain name: SNI and name check (may be empty)
  PinMode mode = PinMode::kEnforce;
  std::vector<Pin> pins;
  int line = 0;           ///< line of its [[upstream]] header

  /// Pins valid at @p now.
  [[nodiscard]] std::size_t pins_in_window(UnixTime now) const noexcept;
};

/// Every upstream's pins, as loaded from one source.
struct PinTable {
  std::vector<UpstreamPins> upstreams;
  std::string source;  ///< file path or other origin, for messages

  [[nodiscard]] const UpstreamPins* find(std::string_view name) const noexcept;
};

}  // namespace dotpin
