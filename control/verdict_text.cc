// SPDX-License-Identifier: Apache-2.0
#include "control/verdict_text.h"

namespace dotpin::ctl {

nlohmann::json observed_chain_json(const PinVerdict& v) {
  nlohmann::json arr = nlohmann::json::array();
  for (std::size_t k = 0; k < v.observed_count; ++k) {
    const ObservedPin& o = v.observed[k];
    arr.push_back({{"pin", o.parsed ? nlohmann::json(pin_base64(o.digest)) : nlohmann::json(nullptr)},
                   {"on_path", o.on_path},
                   {"position", o.on_path ? nlohmann::json(o.position) : nlohmann::json(nullptr)},
                   {"anchor", o.anchor},
                   {"off_path", o.on_path ? nlohmann::json(nullptr) : nlohmann::json(std::string(to_string(o.off_path)))}});
  }
  return arr;
}

nlohmann::json observed_pins_json(const PinVerdict& v) {
  nlohmann::json arr = nlohmann::json::array();
  for (std::size_t k = 0; k < v.presented; ++k)
    arr.push_back(v.observed[k].parsed ? pin_base64(v.observed[k].digest) : std::string("unparsable"));
  return arr;
}

std::string matched_where(const PinVerdict& v) {
  if (!v.matched() || v.matched_element < 0) return "";
  if (v.observed[static_cast<std::size_t>(v.matched_element)].anchor) return "on the trust anchor";
  return "on element [" + std::to_string(v.matched_element) + "]";
}

}  // namespace dotpin::ctl
