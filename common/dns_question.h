// SPDX-License-Identifier: Apache-2.0
/// @file dns_question.h
/// @brief The one question parser: the name, QTYPE and QCLASS at offset 12, read with the wire
/// cursor, and the question compare a response must pass (RFC 4343: names case-insensitively,
/// type and class exactly). Header-only: the data path parses every query's question with it.
#pragma once

#include <cstdint>
#include <span>

#include "common/ascii_fold.h"
#include "common/wire_cursor.h"

namespace dotpin::dns {

struct Question {
  std::uint16_t name_len = 0;  ///< wire length of the name at offset 12, root included
  std::uint16_t qtype = 0, qclass = 0;
  std::uint16_t end = 0;       ///< offset just after QCLASS
};

/// Reads the question at the cursor, which must be at offset 12. The name must be uncompressed: a
/// pointer in the first name could only point into the header. False (and the cursor fails) if
/// it cannot be read; then @p q keeps what it had.
inline bool read_question(WireCursor& c, Question& q) noexcept {
  const std::size_t start = c.pos();
  std::size_t name_len = 1;  // the root
  c.walk_name([&name_len](std::span<const std::uint8_t> label) noexcept { name_len += label.size() + 1; });
  if (c.ok() && c.pos() - start != name_len) c.fail();  // it ended in a pointer
  const std::uint16_t qtype = c.u16();
  const std::uint16_t qclass = c.u16();
  if (!c.ok()) return false;
  q.name_len = static_cast<std::uint16_t>(name_len);
  q.qtype = qtype;
  q.qclass = qclass;
  q.end = static_cast<std::uint16_t>(c.pos());
  return true;
}

/// The question section (name, type, class) of a message whose QDCOUNT is 1, or an empty span.
inline std::span<const std::uint8_t> question_of(std::span<const std::uint8_t> msg) noexcept {
  if (msg.size() < kHeaderLen || load_be16(msg.data() + 4) != 1) return {};
  WireCursor c(msg, kHeaderLen);
  Question q;
  if (!read_question(c, q)) return {};
  return msg.subspan(kHeaderLen, q.end - kHeaderLen);
}

/// Whether two question sections (as question_of() gives them) ask the same: the names equal but
/// for ASCII case (upstreams need not keep a 0x20 spelling), QTYPE and QCLASS equal. Empty
/// sections are never the same.
inline bool same_question(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  if (a.size() < 5 || a.size() != b.size()) return false;
  const std::size_t name = a.size() - 4;
  return ascii_iequal(a.first(name), b.first(name)) && std::memcmp(a.data() + name, b.data() + name, 4) == 0;
}

}  // namespace dotpin::dns
