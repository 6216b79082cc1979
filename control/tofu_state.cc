// SPDX-License-Identifier: Apache-2.0
#include "control/tofu_state.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>

#include "pinning/pem.h"
#include "pinning/pin_file_writer.h"

namespace dotpin::ctl {
namespace {

constexpr int kVersion = 1;

std::string_view role(PinScope scope) { return scope == PinScope::kIssuer ? "issuer" : "leaf"; }

}  // namespace

const LearnedUpstream* TofuState::entry_for(const UpstreamPins& up) const {
  const auto it = upstreams.find(up.name);
  if (it == upstreams.end()) return nullptr;
  const LearnedUpstream& e = it->second;
  if (e.address != up.address.to_string() || e.auth_name != up.auth_name) return nullptr;
  return &e;
}

std::string render_tofu_state(const TofuState& state) {
  nlohmann::json ups = nlohmann::json::array();
  for (const auto& [name, e] : state.upstreams) {
    nlohmann::json pins = nlohmann::json::array();
    for (const LearnedPin& p : e.pins)
      pins.push_back({{"sha256", pin_base64(p.digest)},
                      {"role", role(p.scope)},
                      {"learned_at", format_utc(p.learned_at)},
                      {"learned_from", p.learned_from}});
    ups.push_back({{"name", name}, {"address", e.address}, {"auth_name", e.auth_name}, {"pins", pins}});
  }
  nlohmann::json j = {{"version", kVersion},
                      {"comment", "dotpind's trust-on-first-use state: keys it learned. Written by dotpind; "
                                  "change it with dotpinctl pins accept|forget."},
                      {"upstreams", ups}};
  return j.dump(2) + "\n";
}

Result<TofuState> parse_tofu_state(std::string_view text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(source, ": not JSON (", e.what(), ")");
  }
  auto bad = [&](const std::string& where, const std::string& what) {
    return fail(source, ": ", where, ": ", what, "; dotpind will not start over (that would learn again)");
  };
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer())
    return bad("top level", "expected an object with a version");
  if (j["version"].get<int>() != kVersion) return bad("version", "unsupported version " + j["version"].dump());
  if (!j.contains("upstreams") || !j["upstreams"].is_array()) return bad("top level", "no upstreams array");
  TofuState state;
  std::size_t k = 0;
  for (const auto& u : j["upstreams"]) {
    const std::string where = "upstreams[" + std::to_string(k++) + "]";
    if (!u.is_object()) return bad(where, "not an object");
    for (const char* key : {"name", "address", "auth_name"})
      if (!u.contains(key) || !u[key].is_string()) return bad(where, std::string("no string '") + key + "'");
    const std::string name = u["name"].get<std::string>();
    if (state.upstreams.contains(name)) return bad(where, "upstream '" + name + "' appears twice");
    LearnedUpstream e;
    e.address = u["address"].get<std::string>();
    e.auth_name = u["auth_name"].get<std::string>();
    if (!u.contains("pins") || !u["pins"].is_array() || u["pins"].empty()) return bad(where, "no pins");
    std::size_t n = 0;
    for (const auto& p : u["pins"]) {
      const std::string pw = where + ".pins[" + std::to_string(n++) + "]";
      if (!p.is_object()) return bad(pw, "not an object");
      for (const char* key : {"sha256", "role", "learned_at", "learned_from"})
        if (!p.contains(key) || !p[key].is_string()) return bad(pw, std::string("no string '") + key + "'");
      LearnedPin lp;
      std::string why;
      const auto d = parse_pin_base64(p["sha256"].get<std::string>(), &why);
      if (!d) return bad(pw, "bad sha256: " + why);
      lp.digest = *d;
      const std::string r = p["role"].get<std::string>();
      if (r == "leaf") lp.scope = PinScope::kLeaf;
      else if (r == "issuer") lp.scope = PinScope::kIssuer;
      else return bad(pw, "role '" + r + "' is not leaf or issuer");
      const auto t = parse_utc(p["learned_at"].get<std::string>());
      if (!t) return bad(pw, "learned_at is not a UTC time");
      lp.learned_at = *t;
      lp.learned_from = p["learned_from"].get<std::string>();
      e.pins.push_back(std::move(lp));
    }
    state.upstreams.emplace(name, std::move(e));
  }
  return state;
}

Result<TofuState> load_tofu_state(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    // No file: nothing learned yet — unless an earlier one was there (FILE.prev from the last
    // write): a lost file must not silently re-open the first-use window.
    const std::string prev = path + ".prev";
    if (::stat(prev.c_str(), &st) == 0)
      return fail(path, ": missing, but ", prev, " exists: restore it (or remove ", prev, " to learn every key again)");
    return TofuState{};
  }
  auto text = read_file(path);
  if (!text) return Error{text.error()};
  return parse_tofu_state(*text, path);
}

Status save_tofu_state(const std::string& path, const TofuState& state) {
  return replace_file_atomically(path, render_tofu_state(state));
}

std::vector<Pin> learned_pins(const LearnedUpstream& learned) {
  std::vector<Pin> out;
  for (const LearnedPin& lp : learned.pins) {
    Pin p;
    p.digest = lp.digest;
    p.scope = lp.scope;
    p.origin = PinOrigin::kTofu;
    p.label = lp.scope == PinScope::kIssuer ? "tofu-issuer" : "tofu-leaf";
    p.learned_at = lp.learned_at;
    p.learned_from = lp.learned_from;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace dotpin::ctl
