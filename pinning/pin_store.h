// SPDX-License-Identifier: Apache-2.0
/// @file pin_store.h
/// @brief The pin table in force, as immutable versioned snapshots, and where tables come from.
///
/// Readers take a snapshot (a shared pointer to a const table with its generation) and keep using
/// it for as long as they like; a writer builds a complete new table, validates it, and publishes it
/// with one atomic pointer swap. The generation number tags everything verified under a table (TLS
/// session tickets, for instance), so state verified under an older generation can be recognised
/// and dropped. The data plane's lcores read through RCU (dataplane/pin_feed.h), not this pointer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "pinning/diagnostic.h"
#include "pinning/pin_set.h"

namespace dotpin {

/// A published pin table. Readers that only hold a raw pointer during an RCU read-side section
/// (the data plane's lcores) take their own reference with shared_from_this() before it ends.
struct PinSnapshot : std::enable_shared_from_this<PinSnapshot> {
  std::uint64_t generation = 0;  ///< 1 for the first table published, +1 for each later one
  PinTable table;
  UnixTime published_at{};
};

/// Where pin tables come from: a local file today; a fleet can add a distributed store later.
class PinSource {
 public:
  virtual ~PinSource() = default;
  /// Loads a complete table, or every error found.
  virtual Result<PinTable> load(std::vector<Diagnostic>& errors) = 0;
  /// "file /etc/dotpin/pins.toml", for messages.
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// A TOML pin file (see pin_file.h).
class FilePinSource final : public PinSource {
 public:
  /// @p ca_mode: the resolver runs with a CA file, so the table must satisfy trust_profile_errors().
  explicit FilePinSource(std::string path, bool ca_mode = false) : path_(std::move(path)), ca_mode_(ca_mode) {}
  Result<PinTable> load(std::vector<Diagnostic>& errors) override;
  [[nodiscard]] std::string describe() const override { return "file " + path_; }

 private:
  std::string path_;
  bool ca_mode_ = false;
};

class PinStore {
 public:
  PinStore() = default;
  PinStore(const PinStore&) = delete;
  PinStore& operator=(const PinStore&) = delete;

  /// The table in force (null before the first publish). Lock-free for readers on this platform
  /// only in the sense that no reader waits for a writer's validation.
  [[nodiscard]] std::shared_ptr<const PinSnapshot> current() const noexcept {
    return current_.load(std::memory_order_acquire);
  }

  /// Publishes @p table as the next generation and returns that generation.
  std::uint64_t publish(PinTable table, UnixTime now);

  /// Loads from @p source and publishes; on any error nothing changes and the errors are returned.
  Result<std::uint64_t> reload(PinSource& source, UnixTime now, std::vector<Diagnostic>& errors);

 private:
  std::atomic<std::shared_ptr<const PinSnapshot>> current_;
  std::mutex writer_;  // serialises publishers so generations are strictly increasing
  std::uint64_t last_generation_ = 0;
};

}  // namespace dotpin
