// SPDX-License-Identifier: Apache-2.0
#include "pinning/der.h"

namespace dotpin::der {
namespace {

int digits(const std::uint8_t* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<UnixTime> parse_time(const Tlv& tlv) noexcept {
  const std::uint8_t* p = tlv.value.data();
  int year;
  if (tlv.tag == der::kUtcTime && tlv.value.size() == 13) {
    const int yy = digits(p, 2);
    if (yy < 0) return std::nullopt;
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p += 2;
  } else if (tlv.tag == der::kGeneralizedTime && tlv.value.size() == 15) {
    year = digits(p, 4);
    if (year < 0) return std::nullopt;
    p += 4;
  } else {
    return std::nullopt;
  }
  const int mon = digits(p, 2), day = digits(p + 2, 2), hh = digits(p + 4, 2), mm = digits(p + 6, 2),
            ss = digits(p + 8, 2);
  if (p[10] != 'Z' || mon < 1 || mon > 12 || day < 1 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
      ss < 0 || ss > 60)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(mon)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return UnixTime{std::chrono::sys_days{ymd}} + std::chrono::hours{hh} + std::chrono::minutes{mm} +
         std::chrono::seconds{ss};
}

bool Reader::next(Tlv& out) noexcept {
  if (failed_ || pos_ >= data_.size()) {
    failed_ = true;
    return false;
  }
  const std::size_t start = pos_;
  std::size_t p = pos_;
  const std::uint8_t tag = data_[p++];
  // Multi-byte tags (low bits all set) never occur where we read.
  if ((tag & 0x1f) == 0x1f || p >= data_.size()) {
    failed_ = true;
    return false;
  }
  std::size_t len = data_[p++];
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    // 0x80 is BER's indefinite length: not DER. More than 4 length bytes: nothing we read is that big.
    if (n == 0 || n > 4 || data_.size() - p < n) {
      failed_ = true;
      return false;
    }
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | data_[p++];
    // DER wants the shortest form: a long form must be needed and have no leading zero byte.
    if (len < 0x80 || (n > 1 && (len >> (8 * (n - 1))) == 0)) {
      failed_ = true;
      return false;
    }
  }
  if (len > data_.size() - p) {
    failed_ = true;
    return false;
  }
  out.tag = tag;
  out.value = data_.subspan(p, len);
  out.whole = data_.subspan(start, p + len - start);
  pos_ = p + len;
  return true;
}

bool Reader::expect(std::uint8_t tag, Tlv& out) noexcept {
  std::uint8_t t = 0;
  if (!peek(t) || t != tag) {
    failed_ = true;
    return false;
  }
  return next(out);
}

bool Reader::peek(std::uint8_t& tag) const noexcept {
  if (failed_ || pos_ >= data_.size()) return false;
  tag = data_[pos_];
  return true;
}

}  // namespace dotpin::der
