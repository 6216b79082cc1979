// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_lint.h"

namespace dotpin {

std::vector<Diagnostic> lint_pin_table(const PinTable& table, UnixTime now, const LintOptions& options) {
  std::vector<Diagnostic> out;
  auto warn = [&](const UpstreamPins& up, int line, std::string message) {
    out.push_back(Diagnostic{Severity::kWarning, table.source, line, 0, std::move(message), up.name});
  };
  for (std::size_t i = 0; i < table.upstreams.size(); ++i) {
    const UpstreamPins& up = table.upstreams[i];
    const std::size_t valid = up.pins_in_window(now);
    if (up.mode == PinMode::kReport) {
      warn(up, up.line, "mode 'report': a mismatching upstream is still used; meant only for staging a rollover");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (table.upstreams[j].address == up.address) {
        warn(up, up.line, "same address " + up.address.to_string() + " as upstream '" + table.upstreams[j].name + "'");
      }
    }
    if (up.pins_from != PinsFrom::kFile) {
      // Learned or DANE pins come at run time; the file's own pins (if any) are a union with them.
      continue;
    }
    if (up.pins.size() == 1) {
      warn(up, up.line,
           "only one pin: losing or rotating that key takes this upstream down; add a backup pin for a "
           "key that is not in the current chain (RFC 7469 section 4.3)");
    }
    if (valid == 0) {
      warn(up, up.line, "no pin is valid now: every connection to this upstream will be refused");
    } else if (valid == 1 && up.pins.size() > 1) {
      warn(up, up.line, "only one pin is valid now: there is no backup in force");
    }
    for (const Pin& pin : up.pins) {
      if (!pin.not_after) continue;
      const long days = days_until(now, *pin.not_after);
      if (*pin.not_after <= now) {
        warn(up, pin.line, "pin " + pin.display_name() + " expired on " + format_utc(*pin.not_after) +
                               "; remove it once the rollover is done");
      } else if (days < options.warn_days) {
        warn(up, pin.line, "pin " + pin.display_name() + " window ends in " + std::to_string(days) + " days (" +
                               format_utc(*pin.not_after) + ")");
      }
    }
  }
  return out;
}

std::vector<Diagnostic> trust_profile_errors(const PinTable& table, bool ca_mode) {
  std::vector<Diagnostic> out;
  for (const UpstreamPins& up : table.upstreams) {
    if (up.pins_from == PinsFrom::kTofu && !ca_mode && !up.tofu_without_ca) {
      out.push_back(Diagnostic{Severity::kError, table.source, up.line, 0,
                               "learns its key on first use without a CA file: whoever "
                               "answers first would be trusted for good; set [upstreams] ca_file, or write "
                               "tofu_without_ca = true to accept that risk",
                               up.name});
    }
    if (!ca_mode || !up.auth_name.empty()) continue;
    out.push_back(Diagnostic{Severity::kError, table.source, up.line, 0,
                             "upstream '" + up.name + "' has no auth_name, but a CA file is configured: PKIX "
                             "without a name would accept any certificate that CA issued; set auth_name",
                             up.name});
  }
  return out;
}

}  // namespace dotpin
