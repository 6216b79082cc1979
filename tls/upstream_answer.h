// SPDX-License-Identifier: Apache-2.0
/// @file upstream_answer.h
/// @brief What the shard takes from an upstream as the answer to a query in flight, and the copy
/// of it a client gets. Functions on bytes, so that fuzz_upstream_answer runs them as the shard
/// does.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace dotpin::tls {

/// The ID by which @p msg is matched to a query in flight, if it is a response (a header, QR=1).
std::optional<std::uint16_t> response_id(std::span<const std::uint8_t> msg) noexcept;

/// Whether @p response repeats the question of @p query: the name case-insensitively (upstreams
/// need not keep a 0x20 spelling), type and class exactly. A response that does not is not an
/// answer to it, whatever its ID.
bool answers_question(std::span<const std::uint8_t> response, std::span<const std::uint8_t> query) noexcept;

/// Writes to @p out (its capacity reused) the client's copy of @p response: the client's ID
/// @p client_id, and without the OPT record when @p strip_opt (the shard added one to a query that
/// had none; a response whose OPT is not its last record is passed on as it is).
void client_copy(std::span<const std::uint8_t> response, std::uint16_t client_id, bool strip_opt,
                 std::vector<std::uint8_t>& out);

}  // namespace dotpin::tls
