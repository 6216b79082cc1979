// SPDX-License-Identifier: Apache-2.0
/// @file servfail.h
/// @brief The answer a client gets when no pinned upstream can answer: SERVFAIL with an Extended
/// DNS Error (RFC 8914) saying why, when the client spoke EDNS.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dotpin::tls {

/// RFC 8914 §4 info codes used by dotpin.
enum class EdeCode : std::uint16_t {
  kOther = 0,
  kNoReachableAuthority = 22,  ///< no pinned upstream could be used
  kNetworkError = 23,          ///< the upstream failed or timed out
};

/// SERVFAIL for @p query: same ID, flags and question, RA set; an OPT record with the EDE option
/// (and @p extra_text) when the query had one. nullopt if the query's question cannot be read.
std::optional<std::vector<std::uint8_t>> make_servfail(std::span<const std::uint8_t> query, EdeCode code,
                                                       std::string_view extra_text);

}  // namespace dotpin::tls
