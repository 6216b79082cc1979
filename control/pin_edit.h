// SPDX-License-Identifier: Apache-2.0
/// @file pin_edit.h
/// @brief Runtime pin changes as pure functions on a pin table: add a pin, remove a pin, and the
/// full validation every changed table goes through before anything is written or published
/// (rendered as a pin file and parsed back by the same parser that loads the file at start).
/// A change that fails any check returns the reason and leaves nothing changed.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "control/replies.h"
#include "pinning/pin_set.h"
#include "pinning/pin_store.h"

namespace dotpin::ctl {

struct PinToAdd {
  std::string upstream;
  std::string sha256;  ///< RFC 7469 base64
  std::string label;
  std::optional<UnixTime> not_before, not_after;
};

/// @p table with the pin added to its upstream. Refused: unknown upstream, malformed pin, a pin
/// the upstream already has, a window that ends before @p now or before it begins.
Result<PinTable> with_pin_added(const PinTable& table, const PinToAdd& pin, UnixTime now);

/// @p table without the pin (base64 value or label) of @p upstream. Refused: unknown upstream or
/// pin, removing an upstream's only pin. Whether the upstream keeps a pin valid now is checked by
/// the publisher, as for every pin change (pin_safety.h).
Result<PinTable> with_pin_removed(const PinTable& table, std::string_view upstream, std::string_view pin);

/// ok if @p table has an upstream named @p name; else "no upstream named 'x' (known: a, b)".
Status require_upstream(const PinTable& table, std::string_view name);

/// A validated table and its pin-file text.
struct CheckedTable {
  PinTable table;
  std::string text;
};
/// Renders @p table as a pin file for @p path and parses it back: the same checks as loading it.
Result<CheckedTable> check_table(const PinTable& table, const std::string& path, UnixTime now);

/// The one JSON form of an upstream's pins (`pins list`, `pins check`): {name, address, auth_name,
/// mode, valid_pins, pins: [{sha256, label, state: valid|not_yet|expired, not_before, not_after,
/// line}]}; absent window ends are null.
UpstreamPinsReply upstream_pins_reply(const UpstreamPins& upstream, UnixTime now);
nlohmann::json upstream_pins_json(const UpstreamPins& upstream, UnixTime now);
/// `pins list`: the generation in force and every upstream's pins (upstream_pins_json) at @p now.
/// pin_file is the table's source; the daemon sets the configured pin file over it.
PinsReply pins_reply(const PinSnapshot& snapshot, UnixTime now);
nlohmann::json pins_json(const PinSnapshot& snapshot, UnixTime now);

}  // namespace dotpin::ctl
