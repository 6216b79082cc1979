// SPDX-License-Identifier: Apache-2.0
/// @file time_util.h
/// @brief UTC time points as used by pin windows and certificate validity.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dotpin {

/// Seconds since the Unix epoch, UTC. Certificates and pin windows have one-second resolution.
using UnixTime = std::chrono::sys_seconds;

/// "2027-03-01T00:00:00Z".
std::string format_utc(UnixTime t);

/// Parses "2027-03-01T00:00:00Z" or "2027-03-01" (midnight UTC). nullopt if malformed.
std::optional<UnixTime> parse_utc(std::string_view text);

/// Whole days from @p now until @p t (negative when @p t is past), rounded toward minus infinity.
long days_until(UnixTime now, UnixTime t);

/// The current time, to the second.
UnixTime now_utc();

}  // namespace dotpin
