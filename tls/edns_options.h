// SPDX-License-Identifier: Apache-2.0
/// @file edns_options.h
/// @brief The EDNS(0) options the DoT engine writes and reads: padding of queries (RFC 7830 option,
/// RFC 8467 block strategy), so that an encrypted query's size says little about the name in it,
/// and edns-tcp-keepalive (RFC 7828), by which a server says how long it keeps an idle connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace dotpin::tls {

/// Writes @p query to @p out padded to a multiple of @p block bytes. An existing OPT record gets a
/// padding option (replacing any it had); a query without one gets an OPT record added (UDP size
/// 1232), and @p added_opt says so, so that the answer's OPT can be removed with strip_opt() before
/// it goes back to a client that did not speak EDNS. False if the query is malformed (then @p out
/// is unspecified). A query already longer than 65535 - block is left unpadded.
/// With @p keepalive, an empty edns-tcp-keepalive option is added too (RFC 7828 §3.2.1: a client
/// asks for the server's idle timeout).
bool pad_query(std::span<const std::uint8_t> query, std::size_t block, std::vector<std::uint8_t>& out,
               bool& added_opt, bool keepalive = false);

/// The idle timeout a server announces in an edns-tcp-keepalive option of @p message, if any.
std::optional<std::chrono::milliseconds> keepalive_timeout(std::span<const std::uint8_t> message);

/// Removes the OPT record from a message when it is the last record (where every server puts it);
/// false and no change otherwise.
bool strip_opt(std::vector<std::uint8_t>& message);

}  // namespace dotpin::tls
