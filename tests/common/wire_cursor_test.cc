// SPDX-License-Identifier: Apache-2.0
#include "common/wire_cursor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace dotpin::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

// The labels a walk reports, joined with dots ("" for the root).
std::string walked(WireCursor& c) {
  std::string out;
  c.walk_name([&out](std::span<const std::uint8_t> label) {
    if (!out.empty()) out += '.';
    out.append(label.begin(), label.end());
  });
  return out;
}

// A 12-byte header of zeros, then @p tail: names at offset 12 as in a message.
Bytes message(std::initializer_list<std::uint8_t> tail) {
  Bytes m(12 + tail.size(), 0);
  std::copy(tail.begin(), tail.end(), m.begin() + 12);
  return m;
}

TEST(WireCursor, ReadsIntegersAndFailureSticks) {
  const Bytes m{0x12, 0x34, 0x56, 0x78, 0x9a};
  WireCursor c(m);
  EXPECT_EQ(c.u16(), 0x1234);
  EXPECT_EQ(c.u8(), 0x56);
  EXPECT_EQ(c.remaining(), 2u);
  EXPECT_EQ(c.u32(), 0u);  // only 2 bytes left
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.u8(), 0);  // every later read returns 0, even one that would fit
  EXPECT_EQ(c.remaining(), 0u);
  EXPECT_FALSE(c.skip_name());
  WireCursor past(m, 6);  // a start beyond the end is a failure, not a wrap-around
  EXPECT_FALSE(past.ok());
}

TEST(WireCursor, FollowsABackwardPointerAndEndsAfterIt) {
  // offset 12: www.example. ; offset 25: mail + pointer to "example." (offset 16)
  const Bytes m = message({3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,  //
                           4, 'm', 'a', 'i', 'l', 0xc0, 16, 0xff});
  WireCursor c(m, 12);
  EXPECT_EQ(walked(c), "www.example");
  EXPECT_EQ(c.pos(), 25u);
  EXPECT_EQ(walked(c), "mail.example");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.pos(), 32u);  // after the pointer, not where the walk ended
  EXPECT_EQ(c.u8(), 0xff);
}

TEST(WireCursor, AChainOfPointersEachFurtherBackIsFine) {
  // 12: a. ; 15: b + ptr->12 ; 20: c + ptr->15  =>  c.b.a
  const Bytes m = message({1, 'a', 0, 1, 'b', 0xc0, 12, 1, 'c', 0xc0, 15});
  WireCursor c(m, 19);
  EXPECT_EQ(walked(c), "c.b.a");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.pos(), m.size());
}

TEST(WireCursor, ForwardPointerIsRefused) {
  const Bytes m = message({0xc0, 14, 1, 'x', 0});
  WireCursor c(m, 12);
  EXPECT_FALSE(c.skip_name());
  EXPECT_FALSE(c.ok());
}

TEST(WireCursor, PointerToItselfIsRefused) {
  const Bytes m = message({0xc0, 12});
  WireCursor c(m, 12);
  EXPECT_FALSE(c.skip_name());
}

TEST(WireCursor, PointerIntoTheNamesOwnLabelsIsRefused) {
  // www + pointer to 12 (the name's start) or 13 (inside "www"): both before the pointer, both loops.
  for (const std::uint8_t target : {12, 13}) {
    const Bytes m = message({3, 'w', 'w', 'w', 0xc0, target});
    WireCursor c(m, 12);
    int labels = 0;
    EXPECT_FALSE(c.walk_name([&labels](std::span<const std::uint8_t>) { ++labels; })) << int{target};
    // Refused at the pointer, not after going round until the length limit.
    EXPECT_EQ(labels, 1) << int{target};
  }
}

TEST(WireCursor, TwoPointersThatLoopAreRefused) {
  // 12: a + ptr->16; 16: b + ptr->12. Walked from 16: b, back to 12 (fine), a, then ptr->16, which
  // is before that pointer but not before 12, where this stretch of labels began: a loop.
  const Bytes m = message({1, 'a', 0xc0, 16, 1, 'b', 0xc0, 12});
  WireCursor c(m, 16);
  EXPECT_EQ(walked(c), "b.a");  // what it reported before the looping pointer
  EXPECT_FALSE(c.ok());
  // The same bytes walked from 12 fail at once: 16 is forward.
  WireCursor d(m, 12);
  EXPECT_FALSE(d.skip_name());
}

TEST(WireCursor, NamesUpTo255OctetsAndNoLonger) {
  // 4 labels of 63 = 256 octets with the root: one too many; with a 61-octet last label, 254 + root.
  auto name = [](std::size_t last) {
    Bytes m(12, 0);
    for (int i = 0; i < 3; ++i) {
      m.push_back(63);
      m.insert(m.end(), 63, 'a');
    }
    m.push_back(static_cast<std::uint8_t>(last));
    m.insert(m.end(), last, 'b');
    m.push_back(0);
    return m;
  };
  const Bytes ok = name(61);  // 3*64 + 62 + 1 = 255
  WireCursor c(ok, 12);
  EXPECT_TRUE(c.skip_name());
  EXPECT_EQ(c.pos(), 12u + 255u);
  const Bytes too_long = name(62);  // 256
  WireCursor d(too_long, 12);
  EXPECT_FALSE(d.skip_name());
}

TEST(WireCursor, LengthLimitCountsWhatPointersAddToo) {
  // 12: 63 a's + root (65 octets). Then three names of 63 b's that each point to the previous:
  // the fourth is 4*64 + 1 = 257 octets uncompressed, though each is 66 bytes on the wire.
  Bytes m(12, 0);
  m.push_back(63);
  m.insert(m.end(), 63, 'a');
  m.push_back(0);
  std::size_t prev = 12, at = 0;
  for (int i = 0; i < 3; ++i) {
    at = m.size();
    m.push_back(63);
    m.insert(m.end(), 63, 'b');
    m.push_back(static_cast<std::uint8_t>(0xc0 | prev >> 8));
    m.push_back(static_cast<std::uint8_t>(prev));
    prev = at;
  }
  WireCursor third(m, 12 + 65 + 66);  // 3*64 + 1 = 193: fine
  EXPECT_TRUE(third.skip_name());
  WireCursor fourth(m, at);
  EXPECT_FALSE(fourth.skip_name());
}

TEST(WireCursor, ASkipByTheKnownLengthKeepsTheRules) {
  // 12: a name of 4 labels, 3*64 + 50 + 1 = 243 octets. Then names pointing at it: "x" + pointer
  // (245: fine), a label of 12 + pointer (256: too long), a bare pointer, a pointer to that one.
  Bytes m(12, 0);
  for (int i = 0; i < 3; ++i) {
    m.push_back(63);
    m.insert(m.end(), 63, 'a');
  }
  m.push_back(49);
  m.insert(m.end(), 49, 'b');
  m.push_back(0);
  const std::size_t x = m.size();
  m.insert(m.end(), {1, 'x', 0xc0, 12});
  const std::size_t long12 = m.size();
  m.push_back(12);
  m.insert(m.end(), 12, 'c');
  m.insert(m.end(), {0xc0, 12});
  const std::size_t bare = m.size();
  m.insert(m.end(), {0xc0, 12, static_cast<std::uint8_t>(0xc0 | bare >> 8), static_cast<std::uint8_t>(bare)});
  // A cursor at @p at that first read the name at 12 in full (as prepare_answer reads the
  // question), so that it knows its length, or one that did not.
  auto cursor_at = [&m](std::size_t at, bool remember) {
    WireCursor c(m, remember ? 12 : at);
    if (remember) {
      EXPECT_TRUE(c.skip_name());
      c.skip(at - c.pos());
    }
    return c;
  };
  for (const bool remember : {false, true}) {
    WireCursor c = cursor_at(x, remember);
    EXPECT_TRUE(c.skip_name()) << remember;
    EXPECT_EQ(c.pos(), long12);
    WireCursor d = cursor_at(long12, remember);
    EXPECT_FALSE(d.skip_name()) << remember;
    WireCursor e = cursor_at(bare, remember);
    EXPECT_TRUE(e.skip_name()) << remember;
    EXPECT_EQ(e.pos(), bare + 2);
    EXPECT_TRUE(e.skip_name()) << remember;  // bare + 2 -> bare -> 12: each further back
    EXPECT_EQ(e.pos(), bare + 4);
  }
}

TEST(WireCursor, TruncatedNamesFail) {
  const Bytes full = message({3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 4, 'm', 'a', 'i', 'l', 0xc0, 16});
  for (std::size_t n = 12; n < 25; ++n) {
    WireCursor c(std::span(full.data(), n), 12);
    EXPECT_FALSE(c.skip_name()) << n;
  }
  for (std::size_t n = 25; n < full.size(); ++n) {  // the second name, cut inside its label or pointer
    WireCursor c(std::span(full.data(), n), 25);
    EXPECT_FALSE(c.skip_name()) << n;
  }
  WireCursor whole(full, 25);
  EXPECT_TRUE(whole.skip_name());
}

TEST(WireCursor, ExtendedLabelTypesAreRefused) {
  for (const std::uint8_t type : {0x40, 0x80}) {
    const Bytes m = message({type, 'x', 0});
    WireCursor c(m, 12);
    EXPECT_FALSE(c.skip_name()) << int{type};
  }
}

TEST(WireCursor, ReadNameUncompressesAndFolds) {
  const Bytes m = message({3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'p', 'l', 'e', 0, 4, 'M', 'a', 'I', 'l', 0xc0, 16});
  std::uint8_t out[kMaxNameLen];
  WireCursor c(m, 25);
  const std::size_t n = c.read_name(out, /*fold=*/true);
  const Bytes want{4, 'm', 'a', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  EXPECT_EQ(Bytes(out, out + n), want);
  WireCursor raw(m, 12);
  const std::size_t r = raw.read_name(out, /*fold=*/false);
  EXPECT_EQ(std::string(out, out + r), std::string("\3WwW\7ExAmple", 12) + std::string(1, '\0'));
  const Bytes bad = message({0xc0, 12});
  WireCursor b(bad, 12);
  EXPECT_EQ(b.read_name(out, true), 0u);
}

TEST(WireCursor, BigEndianLoadsAndStores) {
  std::uint8_t b[4];
  store_be32(b, 0x01020304);
  EXPECT_EQ(load_be32(b), 0x01020304u);
  EXPECT_EQ(b[0], 1);
  store_be16(b, 0xabcd);
  EXPECT_EQ(load_be16(b), 0xabcd);
  EXPECT_EQ(b[1], 0xcd);
}

}  // namespace
}  // namespace dotpin::dns
