// SPDX-License-Identifier: Apache-2.0
/// @file ticket_cache.h
/// @brief Pinned session state cached per upstream: TLS sessions (tickets) tagged with the pin-set
/// generation that verified the full handshake they came from.
///
/// A session is stored only after a full handshake whose chain matched the upstream's pins. It is
/// offered for resumption only while the pin-set generation is unchanged; when a new generation is
/// published, the next lookup drops it, so resumption can never carry a connection past a pin change.
/// Owned by one shard thread: no locking.
#pragma once

#include <cstdint>

#include "pinning/verifier.h"

struct WOLFSSL_SESSION;

namespace dotpin::tls {

class TicketCache {
 public:
  TicketCache() = default;
  ~TicketCache();
  TicketCache(const TicketCache&) = delete;
  TicketCache& operator=(const TicketCache&) = delete;

  /// The cached session if it was verified under @p generation; an older one is freed and counted.
  WOLFSSL_SESSION* usable(std::uint64_t generation) noexcept;
  /// Takes ownership of @p session, verified under @p generation with @p verdict (the chain's
  /// observed pins, which a resumed connection inherits so that a later pin change can re-check it),
  /// replacing any older one.
  void store(WOLFSSL_SESSION* session, std::uint64_t generation, const PinVerdict& verdict) noexcept;
  /// The verdict of the full handshake the cached session came from.
  [[nodiscard]] const PinVerdict& verdict() const noexcept { return verdict_; }
  void clear() noexcept;

  [[nodiscard]] std::uint64_t stored() const noexcept { return stored_; }
  [[nodiscard]] std::uint64_t dropped_stale() const noexcept { return dropped_stale_; }

 private:
  WOLFSSL_SESSION* session_ = nullptr;
  std::uint64_t generation_ = 0;
  PinVerdict verdict_{};
  std::uint64_t stored_ = 0;
  std::uint64_t dropped_stale_ = 0;
};

}  // namespace dotpin::tls
