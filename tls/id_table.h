// SPDX-License-Identifier: Apache-2.0
/// @file id_table.h
/// @brief Message-ID remapping for one upstream connection: every query in flight gets an ID that
/// is unique on that connection, so clients' IDs never collide, and the response finds its query.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace dotpin::tls {

/// Up to @c capacity IDs in flight (at most 65536). IDs are handed out from a shuffled free list,
/// so they are not predictable from one another; alloc and release are O(1) and never allocate.
class IdTable {
 public:
  explicit IdTable(std::size_t capacity, std::uint32_t seed = std::random_device{}());

  /// A free ID, or nullopt when @c capacity are in flight.
  std::optional<std::uint16_t> alloc() noexcept;
  /// Returns @p id; false if it was not in flight (a duplicate or forged response).
  bool release(std::uint16_t id) noexcept;
  [[nodiscard]] bool in_use(std::uint16_t id) const noexcept { return used_[id]; }
  [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::vector<std::uint16_t> free_;  // stack of free IDs
  std::vector<bool> used_;
  std::size_t capacity_;
  std::size_t in_flight_ = 0;
};

}  // namespace dotpin::tls
