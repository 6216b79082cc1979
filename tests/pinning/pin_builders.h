// SPDX-License-Identifier: Apache-2.0
// Pins and tables for the pure pinning tests (lint, safety): a digest filled with one byte, a
// label, a window; upstreams by name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pinning/pin_set.h"

namespace dotpin::test {

inline Pin make_pin(std::uint8_t fill, std::string label, std::optional<UnixTime> nb = {},
                    std::optional<UnixTime> na = {}) {
  Pin p;
  p.digest.fill(fill);
  p.label = std::move(label);
  p.not_before = nb;
  p.not_after = na;
  p.line = 10 + fill;
  return p;
}

}  // namespace dotpin::test
