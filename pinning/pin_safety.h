// SPDX-License-Identifier: Apache-2.0
/// @file pin_safety.h
/// @brief The one rule every pin change obeys: it must not strand an upstream or the pool.
///
/// A pin change (a reload, `pins add|remove`, a key learned, accepted or forgotten, a TLSA
/// refresh or withdrawal) is checked on the table the data plane would enforce after it, against
/// the table in force. It is *unsafe* when
///  - an enforcing upstream that has a pin valid now would have none (every connection to it
///    would be refused), or a new upstream from the pin file would start with none; or
///  - the pool had an upstream that could be connected to (report mode, or a pin valid now)
///    and would have none left (every miss would fail SERVFAIL); or
///  - an upstream would be in report mode that was not before (enforcing, or new): it would
///    connect whatever key the server shows, a downgrade to an unpinned path.
/// An upstream that already has no pin valid now (its pins expired, a TOFU or DANE upstream still
/// waiting for its first key) does not make an unrelated change unsafe: it is reported as a
/// warning. Operator paths refuse an unsafe change unless forced; the DANE source holds its last
/// secure pins instead (pin_sources.h). Pure: the caller composes both tables.
#pragma once

#include <string>
#include <vector>

#include "common/time_util.h"
#include "pinning/pin_set.h"

namespace dotpin {

struct PinSafety {
  std::vector<std::string> unsafe;    ///< why the change would strand an upstream or the pool
  std::vector<std::string> warnings;  ///< upstreams without a pin valid now before and after

  [[nodiscard]] bool safe() const noexcept { return unsafe.empty(); }
  /// The refusal an operator sees: every reason, one per line, and how to override.
  [[nodiscard]] std::string refusal() const;
};

/// What changing the enforced table from @p before to @p after at @p now does (see the file comment).
PinSafety check_pin_change(const PinTable& before, const PinTable& after, UnixTime now);

/// True when @p after trusts less than @p before: an upstream left, changed its address, name or
/// mode, or lost a pin (same digest, form and scope; a changed window alone is no loss). Answers
/// fetched under @p before are then never served stale (a revoked key may have produced them).
bool trust_narrowed(const PinTable& before, const PinTable& after);

}  // namespace dotpin
