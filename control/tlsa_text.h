// SPDX-License-Identifier: Apache-2.0
/// @file tlsa_text.h
/// @brief TLSA RDATA in presentation form (RFC 6698 §2.2): "3 1 1 0123abcd...", for dotpinctl.
/// Display only: it does not judge usage, selector or matching type (pinning/tlsa.h does that).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace dotpin::dane {

/// "U S M HEX" with lower-case hex; RDATA shorter than its three fixed octets, which no parser
/// would accept, is shown in the RFC 3597 generic form ("\# 2 0301") so nothing is hidden.
std::string tlsa_presentation(std::span<const std::uint8_t> rdata);

/// Lower-case hex of @p bytes, no separators.
std::string hex_lower(std::span<const std::uint8_t> bytes);

}  // namespace dotpin::dane
