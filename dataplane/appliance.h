// SPDX-License-Identifier: Apache-2.0
/// @file appliance.h
/// @brief Slow path: the data plane's assembly and its implementation of the control plane's API
/// (api.h). Opens the port, creates one Worker per EAL worker lcore (each with its own queue pair,
/// wolfSSL context, io_uring and DoT shard) and launches them; serves views and commands; stops
/// them and writes the shutdown summary. EAL must be initialised first. Only dotpind's main (the
/// process's composition root) includes this header; the rest of control/ sees api.h.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/api.h"
#include "dataplane/config.h"
#include "dataplane/pin_feed.h"
#include "dataplane/port.h"
#include "dataplane/client_neighbors.h"
#include "dataplane/exception_port.h"

namespace dotpin::dataplane {

class Appliance final : public DataPlane {
 public:
  using Log = std::function<void(std::string_view)>;
  /// Opens the port and builds the workers for @p first (the control plane's first pin generation
  /// of each view, in the config's order); nothing runs yet.
  static Result<std::unique_ptr<Appliance>> create(DataPlaneConfig config,
                                                   std::vector<std::shared_ptr<const PinSnapshot>> first, Log log);
  ~Appliance() override;

  /// Launches the workers on their lcores and waits until each has built its state.
  Status start();
  /// Asks the workers to stop, waits for their drain, and joins them.
  void stop();

  /// Counters of every lcore and every upstream, as a table (the shutdown summary).
  [[nodiscard]] std::string summary() const;

  // DataPlane
  [[nodiscard]] std::vector<LcoreView> lcore_views() const override;
  [[nodiscard]] PortFacts port() const override;
  [[nodiscard]] PortStats port_stats() const override;
  [[nodiscard]] std::size_t worker_count() const override { return lcores_.size(); }
  [[nodiscard]] std::uint64_t tsc_hz() const override;
  [[nodiscard]] std::chrono::system_clock::time_point started_at() const override { return started_at_; }
  [[nodiscard]] std::vector<ViewFacts> views() const override;
  [[nodiscard]] std::shared_ptr<const PinSnapshot> pins(std::size_t view = 0) const override {
    return feed_->snapshot(view);
  }
  [[nodiscard]] TcpStats tcp_stats() const override;
  [[nodiscard]] TcpStats dot_stats() const override;
  CommandResult execute(const LcoreCommand& command, std::chrono::milliseconds wait) override;
  Status publish_pins(std::shared_ptr<const PinSnapshot> snapshot, std::chrono::milliseconds wait,
                      std::size_t view = 0) override;

 private:
  struct Lcore;
  Appliance(DataPlaneConfig config, Log log);
  static int lcore_main(void* arg);

  DataPlaneConfig config_;
  Log log_;
  std::unique_ptr<PinFeed> feed_;
  Port port_;
  ExceptionPort exception_;
  std::unique_ptr<ClientNeighbors> neighbors_;
  std::unique_ptr<class TcpService> tcp_;
  mutable std::mutex port_stats_mu_;
  std::vector<std::unique_ptr<Lcore>> lcores_;
  std::atomic<bool> stop_{false};
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  bool launched_ = false;
};

}  // namespace dotpin::dataplane
