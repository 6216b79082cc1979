// SPDX-License-Identifier: Apache-2.0
#include "tls/dns_framing.h"

namespace dotpin::tls {

bool append_framed(ByteQueue& out, std::span<const std::uint8_t> message) {
  if (message.size() > 0xffff) return false;
  const std::uint8_t len[2] = {static_cast<std::uint8_t>(message.size() >> 8),
                               static_cast<std::uint8_t>(message.size() & 0xff)};
  out.append(len);
  out.append(message);
  return true;
}

FrameDecoder::Status FrameDecoder::next(std::span<const std::uint8_t>& message) {
  // The previous message stays readable until this call.
  buf_.consume(pending_consume_);
  pending_consume_ = 0;
  const auto data = buf_.data();
  if (data.size() < 2) return Status::kNeedMore;
  const std::size_t len = std::size_t{data[0]} << 8 | data[1];
  if (len < kDnsHeaderSize) return Status::kMalformed;
  if (data.size() < 2 + len) return Status::kNeedMore;
  message = data.subspan(2, len);
  pending_consume_ = 2 + len;
  return Status::kMessage;
}

}  // namespace dotpin::tls
