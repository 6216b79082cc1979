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
  explicit FakeDataPlane(std::shared_ptr<const PinSnapshot> first) : pins_{std::move(first)} {}
  /// With [[view]] sections: @p facts[i] has @p first[i]'s pins.
  FakeDataPlane(std::vector<dataplane::ViewFacts> facts, std::vector<std::shared_ptr<const PinSnapshot>> first)
      : facts_(std::move(facts)), pins_(std::move(first)) {}

  // What the test sets.
  std::vector<dataplane::LcoreView> lcores;
  dataplane::PortFacts port_facts{"net_ring_fake", {0x02, 0, 0, 0, 0, 0x01}, 2, true};
  dataplane::PortStats port_counters{};
  std::vector<unsigned> late_lcores;      ///< these lcores time out on every command and publication
  std::uint64_t result_per_lcore = 0;     ///< what each punctual lcore answers to a command

  // What the test reads.
  std::vector<dataplane::LcoreCommand> commands;
  std::vector<std::shared_ptr<const PinSnapshot>> published;
  std::vector<std::size_t> published_views;  ///< the view of each publication

  [[nodiscard]] std::vector<dataplane::LcoreView> lcore_views() const override { return lcores; }
  [[nodiscard]] dataplane::PortFacts port() const override { return port_facts; }
  [[nodiscard]] dataplane::PortStats port_stats() const override { return port_counters; }
  [[nodiscard]] std::size_t worker_count() const override { return lcores.size(); }
  [[nodiscard]] std::chrono::system_clock::time_point started_at() const override { return started_; }
  [[nodiscard]] std::vector<dataplane::ViewFacts> views() const override {
    if (!facts_.empty()) return facts_;
    return {dataplane::ViewFacts{"default", std::nullopt, {}, "pins.toml"}};
  }
  [[nodiscard]] std::shared_ptr<const PinSnapshot> pins(std::size_t view = 0) const override {
    return view < pins_.size() ? pins_[view] : nullptr;
  }

  dataplane::CommandResult execute(const dataplane::LcoreCommand& command, std::chrono::milliseconds) override {
    commands.push_back(command);
    dataplane::CommandResult r;
    for (const auto& l : lcores) {
      if (std::find(late_lcores.begin(), late_lcores.end(), l.lcore) != late_lcores.end()) r.late.push_back(l.lcore);
      else r.total += result_per_lcore;
    }
    return r;
  }
  Status publish_pins(std::shared_ptr<const PinSnapshot> snapshot, std::chrono::milliseconds,
                      std::size_t view = 0) override {
    if (view >= pins_.size()) return fail("no view ", std::to_string(view));
    published.push_back(snapshot);
    published_views.push_back(view);
    pins_[view] = std::move(snapshot);
    if (!late_lcores.empty()) return fail("generation ", std::to_string(pins_[view]->generation), " published, but lcore(s) late");
    return ok_status();
  }

 private:
  std::vector<dataplane::ViewFacts> facts_;
  std::vector<std::shared_ptr<const PinSnapshot>> pins_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now() - std::chrono::seconds(90);
};

/// An lcore view that has published @p stats for upstreams @p names (of view @p view; the views
/// before it publish nothing).
inline dataplane::LcoreView lcore_view(unsigned id, std::vector<std::string> names, std::vector<tls::UpstreamStats> stats,
                                       std::size_t view = 0) {
  dataplane::LcoreView v;
  v.lcore = id;
  v.queue = static_cast<std::uint16_t>(id);
  v.stats.views.resize(view + 1);
  auto& out = v.stats.views[view];
  out.upstream_names = std::move(names);
  out.latency.resize(stats.size());
  out.upstreams = std::move(stats);
  v.stats.published = 1;
  return v;
}

}  // namespace dotpin::test
