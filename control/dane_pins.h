// SPDX-License-Identifier: Apache-2.0
/// @file dane_pins.h
/// @brief The pins a secure TLSA answer stands for: the one conversion the daemon's refresh
/// (pin_sources.h) and `dotpinctl pins check --dane` share.
#pragma once

#include <string>
#include <vector>

#include "common/time_util.h"
#include "control/dane_lookup.h"
#include "pinning/pin_set.h"

namespace dotpin::ctl {

struct DanePins {
  std::vector<Pin> pins;     ///< usable records (usages 3 and 2), each once, in answer order
  std::string skipped;       ///< why the others were not used ("" when none), for operators
};

/// The usable records of @p answer (which must be secure) as pins: origin kDane, labelled tlsa-N,
/// learned at @p now from the answer's owner, in force until the RRset's signatures expire.
DanePins pins_from_tlsa_answer(const dane::DaneAnswer& answer, UnixTime now);

}  // namespace dotpin::ctl
