// SPDX-License-Identifier: Apache-2.0
#include "common/ascii_fold.h"

#include <gtest/gtest.h>

#include <clocale>
#include <vector>

namespace dotpin {
namespace {

static_assert(ascii_lower('Q') == 'q' && ascii_lower('q') == 'q' && ascii_lower('@') == '@');

TEST(AsciiFold, FoldsExactlyTheUpperCaseLetters) {
  for (unsigned c = 0; c < 256; ++c) {
    const auto b = static_cast<std::uint8_t>(c);
    const auto want = static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    EXPECT_EQ(ascii_lower(b), want) << c;
    EXPECT_EQ(static_cast<std::uint8_t>(ascii_lower(static_cast<char>(b))), want) << c;
  }
}

TEST(AsciiFold, NeighboursOfTheLettersAndHighBytesStayApart) {
  using S = std::string_view;
  EXPECT_TRUE(ascii_iequal(S("WwW.DoTpIn.TeSt"), S("www.dotpin.test")));
  EXPECT_FALSE(ascii_iequal(S("@"), S("`")));   // 0x40 / 0x60: one bit apart, not letters
  EXPECT_FALSE(ascii_iequal(S("["), S("{")));   // 0x5b / 0x7b
  EXPECT_FALSE(ascii_iequal(S("\xc0"), S("\xe0")));  // Latin-1 A-grave / a-grave: no locale
  EXPECT_FALSE(ascii_iequal(S("ab"), S("abc")));
  const std::vector<std::uint8_t> a{3, 'W', 'W', 'W'}, b{3, 'w', 'w', 'w'}, c{3, 'w', 'w', 'x'};
  EXPECT_TRUE(ascii_iequal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>(b)));
  EXPECT_FALSE(ascii_iequal(std::span<const std::uint8_t>(a), std::span<const std::uint8_t>(c)));
}

TEST(AsciiFold, DoesNotDependOnTheLocale) {
  // Whatever locale the process runs in (where one is installed), the fold is the same.
  const char* set = std::setlocale(LC_ALL, "C.UTF-8");
  std::uint8_t out[256], in[256];
  for (unsigned c = 0; c < 256; ++c) in[c] = static_cast<std::uint8_t>(c);
  ascii_lower_copy(out, in, sizeof in);
  for (unsigned c = 0; c < 256; ++c) EXPECT_EQ(out[c], ascii_lower(in[c])) << c;
  EXPECT_EQ(out[0xc0], 0xc0);
  EXPECT_EQ(out['Z'], 'z');
  if (set != nullptr) std::setlocale(LC_ALL, "C");
}

}  // namespace
}  // namespace dotpin
