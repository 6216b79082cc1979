// SPDX-License-Identifier: Apache-2.0
/// @file edns_padding.h
/// @brief EDNS(0) padding of queries sent over TLS (RFC 7830 option, RFC 8467 block strategy), so
/// that the size of an encrypted query says little about the name in it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dotpin::tls {

/// Writes @p query to @p out padded to a multiple of @p block bytes. An existing OPT record gets a
/// padding option (replacing any it had); a query without one gets an OPT record added (UDP size
/// 1232), and @p added_opt says so, so that the answer's OPT can be removed with strip_opt() before
/// it goes back to a client that did not speak EDNS. False if the query is malformed (then @p out
/// is unspecified). A query already longer than 65535 - block is left unpadded.
bool pad_query(std::span<const std::uint8_t> query, std::size_t block, std::vector<std::uint8_t>& out,
               bool& added_opt);

/// Removes the OPT record from a message when it is the last record (where every server puts it);
/// false and no change otherwise.
bool strip_opt(std::vector<std::uint8_t>& message);

}  // namespace dotpin::tls
