// SPDX-License-Identifier: Apache-2.0
#include "tls/dns_framing.h"

#include <gtest/gtest.h>

namespace dotpin::tls {
namespace {

std::vector<std::uint8_t> message(std::size_t n, std::uint8_t fill) { return std::vector<std::uint8_t>(n, fill); }

TEST(DnsFraming, RoundTripsAcrossArbitrarySplits) {
  ByteQueue wire;
  const auto a = message(12, 1), b = message(300, 2), c = message(65535, 3);
  ASSERT_TRUE(append_framed(wire, a));
  ASSERT_TRUE(append_framed(wire, b));
  ASSERT_TRUE(append_framed(wire, c));
  const auto bytes = std::vector<std::uint8_t>(wire.data().begin(), wire.data().end());
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 1000u, 70000u}) {
    FrameDecoder dec;
    std::vector<std::size_t> sizes;
    for (std::size_t off = 0; off < bytes.size(); off += chunk) {
      dec.feed(std::span(bytes).subspan(off, std::min(chunk, bytes.size() - off)));
      std::span<const std::uint8_t> m;
      while (dec.next(m) == FrameDecoder::Status::kMessage) {
        sizes.push_back(m.size());
        EXPECT_EQ(m[0], sizes.size());  // fill value identifies the message
      }
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{12, 300, 65535})) << "chunk " << chunk;
    EXPECT_EQ(dec.buffered(), 0u);
  }
}

TEST(DnsFraming, RejectsOversizeAndRuntMessages) {
  ByteQueue wire;
  EXPECT_FALSE(append_framed(wire, message(65536, 0)));
  EXPECT_TRUE(wire.empty());
  FrameDecoder dec;
  const std::uint8_t runt[] = {0, 5, 1, 2, 3, 4, 5};
  dec.feed(runt);
  std::span<const std::uint8_t> m;
  EXPECT_EQ(dec.next(m), FrameDecoder::Status::kMalformed);
  FrameDecoder empty;
  const std::uint8_t zero[] = {0, 0};
  empty.feed(zero);
  EXPECT_EQ(empty.next(m), FrameDecoder::Status::kMalformed);
}

TEST(DnsFraming, WaitsForTheWholeMessage) {
  FrameDecoder dec;
  const std::uint8_t head[] = {0, 12, 1, 2, 3};
  dec.feed(head);
  std::span<const std::uint8_t> m;
  EXPECT_EQ(dec.next(m), FrameDecoder::Status::kNeedMore);
  const std::uint8_t rest[] = {4, 5, 6, 7, 8, 9, 10, 11, 12};
  dec.feed(rest);
  ASSERT_EQ(dec.next(m), FrameDecoder::Status::kMessage);
  EXPECT_EQ(m.size(), 12u);
  EXPECT_EQ(m[11], 12);
}

}  // namespace
}  // namespace dotpin::tls
