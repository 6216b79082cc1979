// SPDX-License-Identifier: Apache-2.0
#include "tls/id_table.h"

#include <algorithm>
#include <numeric>

namespace dotpin::tls {

IdTable::IdTable(std::size_t capacity, std::uint32_t seed)
    : used_(65536, false), capacity_(std::min<std::size_t>(capacity, 65536)) {
  std::vector<std::uint16_t> all(65536);
  std::iota(all.begin(), all.end(), std::uint16_t{0});
  std::mt19937 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  free_.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(capacity_));
}

std::optional<std::uint16_t> IdTable::alloc() noexcept {
  if (free_.empty()) return std::nullopt;
  const std::uint16_t id = free_.back();
  free_.pop_back();
  used_[id] = true;
  ++in_flight_;
  return id;
}

bool IdTable::release(std::uint16_t id) noexcept {
  if (!used_[id]) return false;
  used_[id] = false;
  free_.push_back(id);
  --in_flight_;
  return true;
}

}  // namespace dotpin::tls
