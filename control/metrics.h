// SPDX-License-Identifier: Apache-2.0
/// @file metrics.h
/// @brief Prometheus exposition (text format 0.0.4) of the appliance's counters, and the HTTP
/// endpoint that serves it (libmicrohttpd, its own thread; loopback by default). Per-lcore
/// counters and drops are labelled by lcore, upstream statistics by upstream and failure reason.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/control_server.h"
#include "control/expiry.h"
#include "control/pin_sources.h"
#include "dataplane/api.h"

struct MHD_Daemon;

namespace dotpin::ctl {

/// What a scrape shows, gathered from the appliance's thread-safe views.
struct MetricsInput {
  std::string version;
  double uptime_seconds = 0;
  std::uint64_t pin_generation = 0;
  std::vector<dataplane::LcoreView> lcores;
  std::uint64_t tsc_hz = 0;  ///< what the lcores' cycles are counted in
  std::vector<std::string> upstream_names;
  std::vector<std::string> upstream_views;  ///< each upstream's view, with [[view]] sections (else empty)
  std::vector<std::string> view_names;      ///< with [[view]] sections, by position
  std::vector<std::pair<std::string, std::uint64_t>> view_generations;  ///< with [[view]] sections
  std::vector<std::pair<std::string, dataplane::ViewTotals>> views;     ///< with [[view]] sections
  std::vector<tls::UpstreamStats> upstreams;
  std::vector<LatencyHistogram> latency;  ///< per upstream, µs (may be empty in tests)
  std::vector<ExpiryItem> expiry;
  std::vector<SourceStatus> sources;  ///< TOFU and DANE upstreams
  dataplane::PortStats port;
  dataplane::TcpStats tcp;
  dataplane::TcpStats dot;
  std::optional<ControlServer::Counters> control;  ///< the control socket's clients
};
/// Each view's pin sources (one entry without [[view]] sections; none: no TOFU/DANE).
using SourceList = std::vector<const PinSources*>;
MetricsInput gather_metrics(const dataplane::DataPlane& a, const ExpiryMonitor* expiry = nullptr,
                            const SourceList& sources = {}, const ControlServer* control = nullptr);

/// The text exposition format for @p in.
std::string render_metrics(const MetricsInput& in);

/// `GET /metrics` on an address of its own (HTTP/1.1, libmicrohttpd's internal thread).
class MetricsServer {
 public:
  /// Listens on @p address ("127.0.0.1:9853", "[::1]:9853").
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& address, const dataplane::DataPlane& a,
                                                      const ExpiryMonitor* expiry = nullptr,
                                                      SourceList sources = {},
                                                      const ControlServer* control = nullptr);
  ~MetricsServer();

 private:
  MetricsServer(const dataplane::DataPlane& a, const ExpiryMonitor* expiry, SourceList sources,
                const ControlServer* control)
      : dataplane_(a), expiry_(expiry), sources_(std::move(sources)), control_(control) {}
  const dataplane::DataPlane& dataplane_;
  const ExpiryMonitor* expiry_;
  SourceList sources_;
  const ControlServer* control_;
  MHD_Daemon* daemon_ = nullptr;
  friend struct MetricsAccess;
};

}  // namespace dotpin::ctl
