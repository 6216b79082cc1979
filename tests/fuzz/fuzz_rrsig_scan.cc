// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the answer packet libunbound hands back for a TLSA query (untrusted: it carries
// what an upstream sent) through the RRSIG scan of control/rrsig_scan.h. The first input octet picks
// the type scanned for (TLSA most of the time), the rest is the packet. Checks the scan's own
// promises: an error or a consistent answer, never a crash or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <span>

#include "control/rrsig_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint16_t type = data[0] < 0xf0 ? 52 : data[0];
  const auto s = dotpin::dane::scan_answer_rrset(std::span(data + 1, size - 1), type);
  if (s.ok()) {
    if (s->records == 0 && (!s->owner.empty() || s->signatures != 0)) __builtin_trap();
    if (s->records != 0 && (s->owner.empty() || s->owner.back() != '.')) __builtin_trap();
    if (s->signatures == 0 && (s->earliest_expiration != 0 || s->latest_inception != 0)) __builtin_trap();
    if (s->records > size || s->signatures > size) __builtin_trap();
  }
  return 0;
}
