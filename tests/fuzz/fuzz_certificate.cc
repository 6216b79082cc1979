// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: untrusted certificate bytes as a server presents them, through the DER walker,
// the full parse and the verifier (one and several elements).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pinning/certificate.h"
#include "pinning/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const dotpin::DerBytes der(data, size);
  if (const auto spki = dotpin::find_spki(der)) {
    // The SPKI span must lie inside the input.
    if (spki->data() < data || spki->data() + spki->size() > data + size) __builtin_trap();
    (void)dotpin::parse_spki(*spki);
  }
  (void)dotpin::parse_certificate(der);
  (void)dotpin::parse_spki(der);
  // Split the input into a "chain" at a position chosen by its first byte.
  std::vector<dotpin::DerBytes> chain{der};
  if (size > 1) {
    const std::size_t cut = 1 + data[0] % (size - 1);
    chain = {der.subspan(0, cut), der.subspan(cut)};
  }
  std::vector<dotpin::Pin> pins(1);
  (void)dotpin::verify_chain(chain, pins, dotpin::UnixTime{});
  return 0;
}
