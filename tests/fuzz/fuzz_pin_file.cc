// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: pin files (TOML) through the parser and the linter.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pinning/pin_file.h"
#include "pinning/pin_lint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const dotpin::PinFileResult r = dotpin::parse_pin_file(text, "fuzz.toml");
  // Invariant: a table comes back exactly when there are no errors.
  if (r.table.has_value() == !r.errors.empty()) __builtin_trap();
  if (r.table) (void)dotpin::lint_pin_table(*r.table, dotpin::UnixTime{}, {});
  for (const auto& d : r.errors) (void)d.to_string();
  return 0;
}
