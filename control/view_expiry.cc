// SPDX-License-Identifier: Apache-2.0
#include "control/view_expiry.h"

#include <map>
#include <memory>

#include "tls/client_context.h"

namespace dotpin::ctl {

ExpiryMonitor::PinsFn every_view_pins(const dataplane::DataPlane& dataplane) {
  return [&dataplane]() -> std::shared_ptr<const PinSnapshot> {
    auto all = std::make_shared<PinSnapshot>();
    const auto named = dataplane.views();
    for (std::size_t i = 0; i < named.size(); ++i) {
      const auto s = dataplane.pins(i);
      if (!s) continue;
      all->generation += s->generation;
      for (auto up : s->table.upstreams) {
        up.name = named[i].name + "/" + up.name;
        all->table.upstreams.push_back(std::move(up));
      }
    }
    return all;
  };
}

ExpiryMonitor::ProbeFn every_view_probe(const std::vector<dataplane::ViewConfig>& views,
                                        std::chrono::milliseconds timeout, tls::TlsFloor floor) {
  std::map<std::string, std::shared_ptr<tls::ClientContext>> anchors;
  std::map<std::string, std::string> anchor_errors;
  for (const auto& v : views) {
    if (v.ca_file.empty()) continue;
    if (auto ctx = tls::make_client_ctx(v.ca_file))
      anchors[v.name] = std::make_shared<tls::ClientContext>(std::move(*ctx));
    else
      anchor_errors[v.name] = ctx.error();
  }
  return [anchors, anchor_errors, timeout, floor](const UpstreamPins& u, UnixTime now) {
    const std::string view = u.name.substr(0, u.name.find('/'));
    if (const auto e = anchor_errors.find(view); e != anchor_errors.end()) {
      ChainObservation o;
      o.checked_at = now;
      o.error = "CA file not loaded: " + e->second;
      return o;
    }
    const auto it = anchors.find(view);
    return observe_chain(u, now, timeout, it != anchors.end() ? it->second->anchors() : std::span<const CertView>{},
                         floor);
  };
}

}  // namespace dotpin::ctl
