// SPDX-License-Identifier: Apache-2.0
#include "pinning/diagnostic.h"

#include <algorithm>

namespace dotpin {

std::string_view to_string(Severity s) { return s == Severity::kError ? "error" : "warning"; }

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  out += dotpin::to_string(severity);
  out += ": ";
  if (!upstream.empty()) out += "upstream '" + upstream + "': ";
  out += message;
  return out;
}

std::size_t count(const std::vector<Diagnostic>& diags, Severity s) {
  return static_cast<std::size_t>(std::ranges::count_if(diags, [&](const Diagnostic& d) { return d.severity == s; }));
}

}  // namespace dotpin
