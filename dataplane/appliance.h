// SPDX-License-Identifier: Apache-2.0
/// @file appliance.h
/// @brief Slow path: the daemon's assembly. Loads the pins, opens the port, creates one Worker per
/// EAL worker lcore (each with its own queue pair, wolfSSL context, io_uring and DoT shard) and
/// launches them; stops them and writes the shutdown summary. EAL must be initialised first.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/config.h"
#include "dataplane/pin_feed.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "pinning/pin_store.h"
#include "tls/memory_tls.h"

namespace dotpin::dataplane {

/// One worker lcore as other threads see it.
struct LcoreView {
  unsigned lcore = 0;
  std::uint16_t queue = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Counter::kCount_)> counters{};
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount_)> drops{};
  PublishedStats stats;  ///< as of the lcore's last publication (at most 100 ms old)
};

/// Per-upstream stats summed over the lcores, for the pin generation in @p pins (index = position in
/// its table). Lcores that have not published the generation yet are matched by upstream name.
struct UpstreamTotals {
  std::shared_ptr<const PinSnapshot> pins;
  std::vector<tls::UpstreamStats> stats;
  std::vector<LatencyHistogram> latency;  ///< answered queries' round trips, µs
};

class Appliance {
 public:
  using Log = std::function<void(std::string_view)>;
  /// Loads pins and the port; nothing runs yet.
  static Result<std::unique_ptr<Appliance>> create(DaemonConfig config, Log log);
  ~Appliance();

  /// Launches the workers on their lcores and waits until each has built its state.
  Status start();
  /// Asks the workers to stop, waits for their drain, and joins them.
  void stop();

  /// Counters of every lcore and every upstream, as a table (the shutdown summary).
  [[nodiscard]] std::string summary() const;
  /// Any thread: every worker lcore's counters and published stats. Never slows the lcores.
  [[nodiscard]] std::vector<LcoreView> lcore_views() const;
  [[nodiscard]] UpstreamTotals upstream_totals() const;
  /// The pin generation in force (any thread).
  [[nodiscard]] std::shared_ptr<const PinSnapshot> pins() const { return feed_->snapshot(); }
  /// Control thread: publishes @p table (already validated) as the next generation and waits up
  /// to @p wait for every running lcore to adopt it. Returns the new snapshot, or an error naming
  /// the lcores that did not adopt it in time (they will on their next pass).
  Result<std::shared_ptr<const PinSnapshot>> publish_pins(PinTable table, std::chrono::milliseconds wait);
  /// Control thread: runs @p task on every running worker lcore (through its mailbox) and waits
  /// up to @p wait for each. Returns the lcores that did not answer in time.
  std::vector<unsigned> on_each_worker(const std::function<void(Worker&)>& task, std::chrono::milliseconds wait);
  [[nodiscard]] const DaemonConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::chrono::system_clock::time_point started_at() const noexcept { return started_at_; }
  [[nodiscard]] const Port& port() const noexcept { return port_; }
  [[nodiscard]] std::size_t worker_count() const noexcept { return lcores_.size(); }

 private:
  struct Lcore;
  Appliance(DaemonConfig config, Log log);
  static int lcore_main(void* arg);

  DaemonConfig config_;
  Log log_;
  PinStore pins_;
  std::unique_ptr<PinFeed> feed_;
  Port port_;
  std::vector<std::unique_ptr<Lcore>> lcores_;
  std::atomic<bool> stop_{false};
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  bool launched_ = false;
};

}  // namespace dotpin::dataplane
