// SPDX-License-Identifier: Apache-2.0
/// @file pin_lint.h
/// @brief Warnings about a pin table that loads but is risky to run with.
#pragma once

#include <vector>

#include "pinning/diagnostic.h"
#include "pinning/pin_set.h"

namespace dotpin {

struct LintOptions {
  int warn_days = 30;  ///< warn when a pin window ends within this many days
};

/// Lints @p table as of @p now. Every result has Severity::kWarning:
///  - an upstream with a single pin (RFC 7469 §4.3 asks for a backup pin outside the live chain);
///  - no pin valid now, or only one valid now while others exist;
///  - a pin window that has ended, or ends within LintOptions::warn_days;
///  - `report` mode (mismatching upstreams are used);
///  - two upstreams with the same address.
std::vector<Diagnostic> lint_pin_table(const PinTable& table, UnixTime now, const LintOptions& options = {});

/// Errors (Severity::kError) for a table that must not be run with the resolver's trust profile:
/// in CA mode (a CA file is configured) every upstream needs an `auth_name`, since PKIX without a
/// name accepts any certificate the CA ever issued, for any name; and a TOFU upstream without a CA
/// file needs the operator's explicit `tofu_without_ca = true` (the first answer would be trusted).
std::vector<Diagnostic> trust_profile_errors(const PinTable& table, bool ca_mode);

}  // namespace dotpin
