// SPDX-License-Identifier: Apache-2.0
#include "pinning/der.h"

#include <gtest/gtest.h>

#include <vector>

namespace dotpin::der {
namespace {

bool reads_one(std::vector<std::uint8_t> bytes, Tlv* out = nullptr) {
  Reader r(bytes);
  Tlv tlv;
  const bool ok = r.next(tlv) && r.at_end();
  if (out) *out = tlv;
  return ok;
}

TEST(DerReader, ShortAndLongLengths) {
  Tlv tlv;
  EXPECT_TRUE(reads_one({0x04, 0x02, 0xaa, 0xbb}, &tlv));
  EXPECT_EQ(tlv.tag, 0x04);
  EXPECT_EQ(tlv.value.size(), 2u);
  EXPECT_EQ(tlv.whole.size(), 4u);

  std::vector<std::uint8_t> long_form{0x04, 0x81, 0x80};
  long_form.resize(3 + 0x80, 0x55);
  EXPECT_TRUE(reads_one(long_form));
}

TEST(DerReader, RejectsWhatDerForbids) {
  EXPECT_FALSE(reads_one({0x30, 0x80, 0x00, 0x00}));        // indefinite length (BER)
  EXPECT_FALSE(reads_one({0x04, 0x81, 0x01, 0xaa}));        // long form where short fits
  EXPECT_FALSE(reads_one({0x04, 0x82, 0x00, 0x81}));        // leading zero length byte
  EXPECT_FALSE(reads_one({0x1f, 0x01, 0x00}));              // multi-byte tag
  EXPECT_FALSE(reads_one({0x04, 0x85, 1, 0, 0, 0, 0}));     // 5 length bytes
}

TEST(DerReader, NeverReadsPastTheEnd) {
  const std::vector<std::uint8_t> full{0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x07};
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<long>(n));
    EXPECT_FALSE(reads_one(cut)) << "prefix of " << n << " bytes";
  }
  EXPECT_TRUE(reads_one(full));
}

TEST(DerReader, StaysFailedAfterAnError) {
  const std::vector<std::uint8_t> bytes{0x02, 0x01, 0x05, 0x04, 0x01, 0x07};
  Reader r(bytes);
  Tlv tlv;
  EXPECT_FALSE(r.expect(0x04, tlv));  // wrong tag first
  EXPECT_TRUE(r.failed());
  EXPECT_FALSE(r.next(tlv));
  std::uint8_t tag = 0;
  EXPECT_FALSE(r.peek(tag));
}

}  // namespace
}  // namespace dotpin::der
