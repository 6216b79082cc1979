// SPDX-License-Identifier: Apache-2.0
#include "common/edns.h"

#include <gtest/gtest.h>

#include "common/dns_wire.h"

namespace dotpin::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A response to "a." with an OPT record (UDP 1232) holding @p options.
Bytes with_opt(const Bytes& options) {
  Bytes m{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 0, 1, 0, 1};
  const std::size_t at = m.size();
  m.resize(at + kOptRecordLen);
  write_opt(m.data() + at, 1232, 0, false, static_cast<std::uint16_t>(options.size()));
  m.insert(m.end(), options.begin(), options.end());
  return m;
}

TEST(Edns, OptRecordBytes) {
  std::uint8_t p[kOptRecordLen];
  write_opt(p, 1232, 1, true, 6);
  const Bytes want{0, 0, 41, 0x04, 0xd0, 1, 0, 0x80, 0, 0, 6};
  EXPECT_EQ(Bytes(p, p + sizeof p), want);
}

TEST(Edns, EdeOptionBytesAndTextLimit) {
  std::uint8_t p[6 + kEdeMaxText];
  EXPECT_EQ(write_ede(p, {EdeCode::kNetworkError, "to"}), 8u);
  const Bytes want{0, 15, 0, 4, 0, 23, 't', 'o'};
  EXPECT_EQ(Bytes(p, p + 8), want);
  EXPECT_EQ(write_ede(p, {EdeCode::kProhibited, {}}), 6u);
  EXPECT_EQ(p[5], 18);
  const std::string long_text(kEdeMaxText + 50, 'x');
  EXPECT_EQ(ede_option_len({EdeCode::kOther, long_text}), 6 + kEdeMaxText);
  EXPECT_EQ(write_ede(p, {EdeCode::kOther, long_text}), 6 + kEdeMaxText);
  // The codes are the RFC 8914 numbers clients see.
  EXPECT_EQ(static_cast<int>(EdeCode::kOther), 0);
  EXPECT_EQ(static_cast<int>(EdeCode::kProhibited), 18);
  EXPECT_EQ(static_cast<int>(EdeCode::kNoReachableAuthority), 22);
  EXPECT_EQ(static_cast<int>(EdeCode::kNetworkError), 23);
}

TEST(Edns, ReadsTheFirstEdeOfTheOpt) {
  const Bytes m = with_opt({0, 12, 0, 1, 0, /**/ 0, 15, 0, 5, 0, 22, 'w', 'h', 'y', /**/ 0, 15, 0, 2, 0, 23});
  Ede e;
  ASSERT_TRUE(read_ede(m, e));
  EXPECT_EQ(e.code, EdeCode::kNoReachableAuthority);
  EXPECT_EQ(e.text, "why");
  EXPECT_FALSE(read_ede(with_opt({0, 12, 0, 0}), e));  // padding only
  EXPECT_FALSE(read_ede(with_opt({0, 15, 0, 1, 0}), e));  // shorter than an INFO-CODE
  EXPECT_FALSE(read_ede(*build_query("a.", kTypeA, {}), e));
  for (std::size_t n = 0; n < m.size(); ++n) EXPECT_FALSE(read_ede(std::span(m.data(), n), e)) << n;
}

TEST(Edns, FindsOneOptInTheAdditionalSection) {
  const Bytes m = with_opt({});
  OptRecord opt;
  ASSERT_TRUE(find_opt(m, opt));
  EXPECT_TRUE(opt.found);
  EXPECT_TRUE(opt.last);
  EXPECT_EQ(opt.start, 19u);
  EXPECT_EQ(opt.end, m.size());
  Bytes twice = m;
  twice[11] = 2;
  twice.insert(twice.end(), m.begin() + 19, m.end());
  EXPECT_FALSE(find_opt(twice, opt));
  Bytes in_answer = m;
  in_answer[7] = 1;
  in_answer[11] = 0;
  EXPECT_FALSE(find_opt(in_answer, opt));
  Bytes trailing = m;
  trailing.push_back(0);
  EXPECT_FALSE(find_opt(trailing, opt));
  Bytes none(m.begin(), m.begin() + 19);
  none[11] = 0;
  ASSERT_TRUE(find_opt(none, opt));
  EXPECT_FALSE(opt.found);
}

TEST(Edns, OptionWalkRefusesPartialOptions) {
  auto count = [](const Bytes& rdata) {
    int n = 0;
    const bool ok = for_each_option(rdata, [&n](std::uint16_t, std::span<const std::uint8_t>) { return ++n < 2; });
    return ok ? n : -1;
  };
  EXPECT_EQ(count({}), 0);
  EXPECT_EQ(count({0, 10, 0, 2, 1, 2}), 1);
  EXPECT_EQ(count({0, 10, 0, 2, 1}), -1);        // overruns
  EXPECT_EQ(count({0, 10, 0, 0, 0, 12}), -1);    // half an option header after the first
  EXPECT_EQ(count({0, 1, 0, 0, 0, 2, 0, 0, 0xff}), 2);  // stopped by the callback before the garbage
}

}  // namespace
}  // namespace dotpin::dns
