// SPDX-License-Identifier: Apache-2.0
/// @file responses.h
/// @brief Upstream-style DNS responses for tests: answers with A records, negative answers with or
/// without an SOA, with or without an OPT record at the end.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/dataplane/frames.h"

namespace dotpin::test {

inline void push32(std::vector<std::uint8_t>& m, std::uint32_t v) {
  m.insert(m.end(), {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                     static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

struct ResponseSpec {
  std::vector<std::uint32_t> a_ttls;  ///< one A record per TTL
  unsigned rcode = 0;
  bool soa = false;                   ///< an SOA in the authority section
  std::uint32_t soa_ttl = 3600, soa_minimum = 60;
  bool opt = false;                   ///< an OPT record at the end (with a padding option)
  bool tc = false;
};

/// The answer to @p query (a query without OPT) as an upstream would send it.
inline std::vector<std::uint8_t> response(std::vector<std::uint8_t> m, const ResponseSpec& s) {
  m[2] = static_cast<std::uint8_t>(0x80 | (m[2] & 0x01) | (s.tc ? 0x02 : 0));
  m[3] = static_cast<std::uint8_t>(0x80 | s.rcode);
  m[7] = static_cast<std::uint8_t>(s.a_ttls.size());
  m[9] = s.soa ? 1 : 0;
  m[11] = s.opt ? 1 : 0;
  std::uint8_t last = 1;
  for (const std::uint32_t ttl : s.a_ttls) {
    m.insert(m.end(), {0xc0, 12, 0, 1, 0, 1});
    push32(m, ttl);
    m.insert(m.end(), {0, 4, 198, 18, 0, last++});
  }
  if (s.soa) {
    m.insert(m.end(), {0xc0, 12, 0, 6, 0, 1});
    push32(m, s.soa_ttl);
    m.insert(m.end(), {0, 24, 0xc0, 12, 0xc0, 12});  // two compressed names + 5 numbers
    for (const std::uint32_t v : {1u, 3600u, 900u, 604800u, s.soa_minimum}) push32(m, v);
  }
  if (s.opt) m.insert(m.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 6, 0, 12, 0, 2, 0, 0});
  return m;
}

}  // namespace dotpin::test
