// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: DNS messages as an upstream (or, later, a client) sends them, through the
// bounds-checked reader and the kdig-style renderer.
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
  return 0;
}
