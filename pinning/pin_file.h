// SPDX-License-Identifier: Apache-2.0
/// @file pin_file.h
/// @brief The pin file: TOML, one [[upstream]] table per DoT upstream. See docs/pin-file.md.
///
/// Parsing is all-or-nothing: every problem in the file is reported (with file:line), and a table is
/// returned only when there is none, so a bad file can never replace pins that are in force.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pinning/diagnostic.h"
#include "pinning/pin_set.h"

namespace dotpin {

struct PinFileResult {
  std::optional<PinTable> table;      ///< set only when there are no errors
  std::vector<Diagnostic> errors;     ///< every error found, in file order
};

/// Parses pin-file text. @p source names it in diagnostics (usually the path).
PinFileResult parse_pin_file(std::string_view text, const std::string& source);

/// Reads and parses the file at @p path.
PinFileResult load_pin_file(const std::string& path);

/// Default DoT port (RFC 7858).
inline constexpr std::uint16_t kDotPort = 853;

}  // namespace dotpin
