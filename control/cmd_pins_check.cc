// SPDX-License-Identifier: Apache-2.0
// dotpinctl pins check FILE [--warn-days N] [--at TIME]
#include <charconv>
#include <iomanip>

#include <nlohmann/json.hpp>

#include "control/command.h"
#include "control/pin_edit.h"
#include "pinning/pin_file.h"
#include "pinning/pin_lint.h"

namespace dotpin::ctl {
namespace {

nlohmann::json to_json(const Diagnostic& d) {
  nlohmann::json j{{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}};
  if (!d.upstream.empty()) j["upstream"] = d.upstream;
  return j;
}

}  // namespace

int run_pins_check(Invocation& inv) {
  const std::string& path = inv.args[0];
  LintOptions lint;
  if (auto d = inv.value("warn-days")) {
    const auto [end, ec] = std::from_chars(d->data(), d->data() + d->size(), lint.warn_days);
    if (ec != std::errc{} || end != d->data() + d->size() || lint.warn_days < 0 || lint.warn_days > 3650) {
      return report_error(inv, "pins check", "--warn-days must be a whole number of days from 0 to 3650");
    }
  }
  UnixTime now = now_utc();
  if (auto at = inv.value("at")) {
    const auto t = parse_utc(*at);
    if (!t) {
      return report_error(inv, "pins check", "--at wants 2027-06-01 or 2027-06-01T00:00:00Z");
    }
    now = *t;
  }

  PinFileResult parsed = load_pin_file(path);
  if (parsed.table) {
    for (auto& d : trust_profile_errors(*parsed.table, inv.has("ca-mode"))) parsed.errors.push_back(std::move(d));
  }
  std::vector<Diagnostic> warnings;
  if (parsed.table) warnings = lint_pin_table(*parsed.table, now, lint);
  const int code = !parsed.errors.empty() ? kExitFailure : !warnings.empty() ? kExitWarnings : kExitOk;
  std::size_t n_pins = 0;
  if (parsed.table)
    for (const auto& u : parsed.table->upstreams) n_pins += u.pins.size();

  if (inv.json) {
    nlohmann::json j{{"file", path}, {"ok", parsed.errors.empty()}, {"at", format_utc(now)}};
    j["errors"] = nlohmann::json::array();
    j["warnings"] = nlohmann::json::array();
    for (const auto& d : parsed.errors) j["errors"].push_back(to_json(d));
    for (const auto& d : warnings) j["warnings"].push_back(to_json(d));
    j["upstreams"] = nlohmann::json::array();
    if (parsed.table)
      for (const auto& u : parsed.table->upstreams) j["upstreams"].push_back(upstream_pins_json(u, now));
    inv.out << j.dump(2) << "\n";
    return code;
  }
  for (const auto& d : parsed.errors) inv.out << d.to_string() << "\n";
  for (const auto& d : warnings) inv.out << d.to_string() << "\n";
  if (parsed.table) {
    if (!warnings.empty()) inv.out << "\n";
    inv.out << std::left << std::setw(20) << "UPSTREAM" << std::setw(26) << "ADDRESS" << std::setw(28) << "AUTH NAME"
            << std::setw(9) << "MODE" << "PINS (valid now/all)\n";
    for (const auto& u : parsed.table->upstreams) {
      inv.out << std::setw(20) << u.name << std::setw(26) << u.address.to_string() << std::setw(28)
              << (u.auth_name.empty() ? "-" : u.auth_name) << std::setw(9) << to_string(u.mode) << u.pins_in_window(now)
              << "/" << u.pins.size() << "\n";
    }
  }
  inv.out << path << ": " << (parsed.table ? parsed.table->upstreams.size() : 0) << " upstream(s), " << n_pins
          << " pin(s); " << parsed.errors.size() << " error(s), " << warnings.size() << " warning(s)"
          << (parsed.errors.empty() ? "" : "; nothing loaded") << "\n";
  return code;
}

}  // namespace dotpin::ctl
