// SPDX-License-Identifier: Apache-2.0
#include "control/view_select.h"

namespace dotpin::ctl {

bool explicit_views(const std::vector<dataplane::ViewFacts>& views) {
  return views.size() != 1 || views[0].vlan || !views[0].clients.empty();
}

Result<std::size_t> select_view(const std::vector<dataplane::ViewFacts>& views, const Request& r, bool every_allowed) {
  std::string names;
  for (const auto& v : views) names += (names.empty() ? "" : ", ") + v.name;
  const auto it = r.options.find("view");
  if (it == r.options.end() || it->second.empty() || it->second.back().empty()) {
    if (!explicit_views(views)) return std::size_t{0};
    if (every_allowed) return kEveryView;
    return fail("this dotpind has views: say which with --view NAME (", names, ")");
  }
  const std::string& want = it->second.back();
  for (std::size_t i = 0; i < views.size(); ++i)
    if (views[i].name == want) return i;
  return fail("no view named '", want, "' (", explicit_views(views) ? "views: " + names : "no [[view]] sections", ")");
}

}  // namespace dotpin::ctl
