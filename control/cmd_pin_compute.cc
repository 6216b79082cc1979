// SPDX-License-Identifier: Apache-2.0
// dotpinctl pin compute FILE...
#include "control/cert_view.h"
#include "control/command.h"
#include "pinning/pem.h"

namespace dotpin::ctl {

int run_pin_compute(Invocation& inv) {
  const UnixTime now = now_utc();
  const bool hex = inv.has("hex");
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
  bool first = true;
  for (const std::string& path : inv.args) {
    const std::string name = path == "-" ? "<stdin>" : path;
    auto report = [&](const std::string& msg) {
      errors.push_back({{"file", name}, {"error", msg}});
      if (!inv.json) inv.err << "dotpinctl: " << msg << "\n";
    };
    auto content = read_file(path);
    if (!content) {
      report(content.error());
      continue;
    }
    auto objects = read_key_objects(*content, name);
    if (!objects) {
      report(objects.error());
      continue;
    }
    nlohmann::json items = nlohmann::json::array();
    for (const KeyObject& obj : *objects) {
      KeyView view;
      view.heading = name + " #" + std::to_string(obj.index);
      Result<Certificate> cert = Error{};
      if (obj.kind == KeyObject::Kind::kCertificate) {
        cert = parse_certificate(obj.der);
        if (!cert) {
          report(name + " #" + std::to_string(obj.index) + (obj.line ? " (line " + std::to_string(obj.line) + ")" : "") +
                 ": " + cert.error());
          continue;
        }
        view.cert = &*cert;
        view.key = key_description(cert->key_type, cert->key_bits);
        view.pin = spki_sha256(cert->spki);
      } else {
        auto key = parse_spki(obj.der);
        if (!key) {
          report(name + " #" + std::to_string(obj.index) + ": " + key.error());
          continue;
        }
        view.key = key_description(key->first, key->second);
        view.pin = spki_sha256(obj.der);
      }
      if (inv.json) {
        auto j = to_json(view, now);
        j["index"] = obj.index;
        items.push_back(std::move(j));
      } else {
        if (!first) inv.out << "\n";
        first = false;
        print_text(inv.out, view, now, hex);
      }
    }
    files.push_back({{"file", name}, {"objects", std::move(items)}});
  }
  if (inv.json) {
    inv.out << nlohmann::json{{"ok", errors.empty()}, {"files", files}, {"errors", errors}}.dump(2) << "\n";
  }
  return errors.empty() ? kExitOk : kExitFailure;
}

}  // namespace dotpin::ctl
