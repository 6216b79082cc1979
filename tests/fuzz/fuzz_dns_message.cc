// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: DNS messages as an upstream (or, later, a client) sends them, through the
// bounds-checked cursor (names from every early offset), the EDE reader and the kdig-style renderer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/dns_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> msg(data, size);
  (void)dotpin::dns::read_header(msg);
  (void)dotpin::dns::format_message(msg);
  dotpin::dns::WireReader r(msg, size > 12 ? 12 : 0);
  (void)r.name();
  // The cursor's own name reading, from every offset a pointer could name.
  std::uint8_t name[dotpin::dns::kMaxNameLen];
  for (std::size_t at = 0; at < size && at < 64; ++at) {
    dotpin::dns::WireCursor c(msg, at);
    const std::size_t n = c.read_name(name, at % 2 == 0);
    if (n > dotpin::dns::kMaxNameLen || (n == 0) == c.ok()) __builtin_trap();
  }
  dotpin::dns::Ede ede;
  (void)dotpin::dns::read_ede(msg, ede);
  return 0;
}
