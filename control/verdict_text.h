// SPDX-License-Identifier: Apache-2.0
/// @file verdict_text.h
/// @brief One way to show a pin verdict to an operator: which certificate matched, and for every
/// presented one whether it is on the verified path (certificates off the path count for nothing).
/// Used by probe, pin fetch --check, stats/upstreams and the shard's refusal log lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "pinning/pin_set.h"
#include "pinning/verifier.h"

namespace dotpin::ctl {

/// [{"pin": b64|null, "on_path": bool, "position": n|null, "anchor": bool, "off_path": why|null}, ...]
nlohmann::json observed_chain_json(const PinVerdict& v);

/// The presented elements' pins alone, as base64 strings ("unparsable" where none).
nlohmann::json observed_pins_json(const PinVerdict& v);

/// "on element [k]" or "on the trust anchor" for a verdict with a match, else "".
std::string matched_where(const PinVerdict& v);

}  // namespace dotpin::ctl
