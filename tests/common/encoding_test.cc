// SPDX-License-Identifier: Apache-2.0
#include "common/encoding.h"

#include <gtest/gtest.h>

namespace dotpin {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(bytes(plain)), encoded);
    const auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes(plain));
  }
}

TEST(Base64, RoundTripsEveryByte) {
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  for (std::size_t n = 0; n <= all.size(); n += 7) {
    const std::vector<std::uint8_t> v(all.begin(), all.begin() + static_cast<long>(n));
    EXPECT_EQ(base64_decode(base64_encode(v)), v);
  }
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!", "Zm 9v", "=Zm9", "Zg==Zg==", "Zh==", "Zm9=", "Zm+=",
                          "Zm9vYg=\n"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(Hex, EncodesAndDecodes) {
  EXPECT_EQ(hex_encode(bytes("\x01\xab\xff")), "01abff");
  EXPECT_EQ(hex_decode("01ABff"), bytes("\x01\xab\xff"));
  EXPECT_EQ(hex_decode("01:ab:ff"), bytes("\x01\xab\xff"));
  EXPECT_FALSE(hex_decode("0").has_value());
  EXPECT_FALSE(hex_decode("0g").has_value());
  EXPECT_FALSE(hex_decode("01:").has_value());
}

}  // namespace
}  // namespace dotpin
