// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: files handed to `dotpinctl pin compute` (PEM or DER, any content).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pinning/certificate.h"
#include "pinning/pem.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto objects = dotpin::read_key_objects(text, "fuzz");
  if (objects.ok()) {
    for (const auto& obj : *objects) {
      (void)dotpin::parse_certificate(obj.der);
      (void)dotpin::parse_spki(obj.der);
    }
  }
  return 0;
}
