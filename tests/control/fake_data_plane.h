// SPDX-License-Identifier: Apache-2.0
/// @file fake_data_plane.h
/// @brief A data plane for control's unit tests (dataplane/api.h): views the test sets, commands
/// and pin generations recorded, lcores that can be made late. No EAL, no root.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "dataplane/api.h"

namespace dotpin::test {

class FakeDataPlane final : public dataplane::DataPlane {
 public:
  explicit FakeDataPlane(std::shared_ptr<const PinSnapshot> first) : pins_(std::move(first)) {}

  // What the test sets.
  std::vector<dataplane::LcoreView> lcores;
  dataplane::PortFacts port_facts{"net_ring_fake", {0x02, 0, 0, 0, 0, 0x01}, 2, true};
  dataplane::PortStats port_counters{};
  std::vector<unsigned> late_lcores;      ///< these lcores time out on every command and publication
  std::uint64_t result_per_lcore = 0;     ///< what each punctual lcore answers to a command

  // What the test reads.
  std::vector<dataplane::LcoreCommand> commands;
  std::vector<std::shared_ptr<const PinSnapshot>> published;

  [[nodiscard]] std::vector<dataplane::LcoreView> lcore_views() const override { return lcores; }
  [[nodiscard]] dataplane::PortFacts port() const override { return port_facts; }
  [[nodiscard]] dataplane::PortStats port_stats() const override { return port_counters; }
  [[nodiscard]] std::size_t worker_count() const override { return lcores.size(); }
  [[nodiscard]] std::chrono::system_clock::time_point started_at() const override { return started_; }
  [[nodiscard]] std::shared_ptr<const PinSnapshot> pins() const override { return pins_; }

  dataplane::CommandResult execute(const dataplane::LcoreCommand& command, std::chrono::milliseconds) override {
    commands.push_back(command);
    dataplane::CommandResult r;
    for (const auto& l : lcores) {
      if (std::find(late_lcores.begin(), late_lcores.end(), l.lcore) != late_lcores.end()) r.late.push_back(l.lcore);
      else r.total += result_per_lcore;
    }
    return r;
  }
  Status publish_pins(std::shared_ptr<const PinSnapshot> snapshot, std::chrono::milliseconds) override {
    published.push_back(snapshot);
    pins_ = std::move(snapshot);
    if (!late_lcores.empty()) return fail("generation ", std::to_string(pins_->generation), " published, but lcore(s) late");
    return ok_status();
  }

 private:
  std::shared_ptr<const PinSnapshot> pins_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now() - std::chrono::seconds(90);
};

/// An lcore view that has published @p stats for upstreams @p names.
inline dataplane::LcoreView lcore_view(unsigned id, std::vector<std::string> names, std::vector<tls::UpstreamStats> stats) {
  dataplane::LcoreView v;
  v.lcore = id;
  v.queue = static_cast<std::uint16_t>(id);
  v.stats.upstream_names = std::move(names);
  v.stats.latency.resize(stats.size());
  v.stats.upstreams = std::move(stats);
  v.stats.published = 1;
  return v;
}

}  // namespace dotpin::test
