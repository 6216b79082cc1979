// SPDX-License-Identifier: Apache-2.0
/// @file diagnostic.h
/// @brief An error or warning about an operator's file, located by file:line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dotpin {

enum class Severity { kWarning, kError };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;  ///< 1-based; 0 when the problem is about the file as a whole
  int column = 0;
  std::string message;
  std::string upstream;  ///< the upstream it concerns, if any

  /// "pins.toml:12:5: error: ..." (the compiler convention editors understand).
  [[nodiscard]] std::string to_string() const;
};

std::string_view to_string(Severity s);

/// Number of diagnostics of severity @p s.
std::size_t count(const std::vector<Diagnostic>& diags, Severity s);

}  // namespace dotpin
