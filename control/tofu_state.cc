// SPDX-License-Identifier: Apache-2.0
#include "control/tofu_state.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>

#include "common/same_file.h"
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

Status check_state_file_migrated(const std::string& appliance_file, const std::vector<std::string>& view_files) {
  const std::string key = same_file_key(appliance_file);
  for (const std::string& f : view_files)
    if (same_file_key(f) == key) return ok_status();  // a view's own: read as that view's
  std::error_code ec;
  const bool present = std::filesystem::exists(appliance_file, ec) || std::filesystem::exists(appliance_file + ".prev", ec);
  if (!present) return ok_status();
  std::string files;
  for (const std::string& f : view_files) files += (files.empty() ? "" : ", ") + f;
  return fail("[tofu] state_file ", appliance_file,
              " exists, but with [[view]] sections each view learns into its own file (", files,
              "): its keys would be learned again on first use. Copy each view's upstreams' entries into "
              "that view's file (or set the view's tofu_state_file to it), then move ",
              appliance_file, " (and its .prev) away");
}

std::vector<std::string> orphaned_view_state_files(const std::string& appliance_file,
                                                   const std::vector<std::string>& view_files) {
  const std::filesystem::path base(appliance_file);
  const std::string stem = base.stem().string() + ".", ext = base.extension().string();
  std::set<std::string> used;
  for (const std::string& f : view_files) used.insert(same_file_key(f));
  std::vector<std::string> out;
  std::error_code ec;
  const auto dir = base.parent_path().empty() ? std::filesystem::path(".") : base.parent_path();
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= stem.size() + ext.size() || name.compare(0, stem.size(), stem) != 0 ||
        name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
      continue;
    const std::string view = name.substr(stem.size(), name.size() - stem.size() - ext.size());
    if (view.empty() || view.find('.') != std::string::npos) continue;  // not STEM.NAME.EXT (FILE.prev, temporaries)
    if (!used.contains(same_file_key(e.path().string()))) out.push_back(e.path().string());
  }
  std::ranges::sort(out);
  return out;
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
