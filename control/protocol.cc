// SPDX-License-Identifier: Apache-2.0
#include "control/protocol.h"

namespace dotpin::ctl {

std::string encode_request(const Request& r) {
  nlohmann::json j{{"command", r.command}, {"args", r.args}, {"options", nlohmann::json::object()}};
  for (const auto& [k, v] : r.options) j["options"][k] = v;
  return j.dump();
}

Result<Request> decode_request(std::string_view line) {
  if (line.size() > kMaxLine) return fail("request longer than ", std::to_string(kMaxLine), " bytes");
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("request is not JSON");
  if (!j.is_object()) return fail("request must be a JSON object");
  Request r;
  const auto cmd = j.find("command");
  if (cmd == j.end() || !cmd->is_string() || cmd->get<std::string>().empty())
    return fail("request needs \"command\" (a string)");
  r.command = cmd->get<std::string>();
  if (const auto args = j.find("args"); args != j.end()) {
    if (!args->is_array()) return fail("\"args\" must be an array of strings");
    for (const auto& a : *args) {
      if (!a.is_string()) return fail("\"args\" must be an array of strings");
      r.args.push_back(a.get<std::string>());
    }
  }
  if (const auto opts = j.find("options"); opts != j.end()) {
    if (!opts->is_object()) return fail("\"options\" must be an object of string arrays");
    for (const auto& [k, v] : opts->items()) {
      if (!v.is_array()) return fail("option \"", k, "\" must be an array of strings");
      for (const auto& x : v) {
        if (!x.is_string()) return fail("option \"", k, "\" must be an array of strings");
        r.options[k].push_back(x.get<std::string>());
      }
    }
  }
  for (const auto& [k, v] : j.items())
    if (k != "command" && k != "args" && k != "options") return fail("unknown request field \"", k, "\"");
  return r;
}

std::string encode_ok(const nlohmann::json& result) { return nlohmann::json{{"ok", true}, {"result", result}}.dump(); }

std::string encode_error(std::string_view message) {
  return nlohmann::json{{"ok", false}, {"error", std::string(message)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<nlohmann::json> decode_reply(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
    return fail("malformed reply from dotpind");
  if (!j["ok"].get<bool>()) return fail(j.value("error", std::string("dotpind reported an error")));
  return j.value("result", nlohmann::json::object());
}

}  // namespace dotpin::ctl
