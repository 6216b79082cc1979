// SPDX-License-Identifier: Apache-2.0
/// @file dns_framing.h
/// @brief DNS over a stream (RFC 1035 §4.2.2, RFC 7766): each message behind a 2-byte length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tls/byte_queue.h"

namespace dotpin::tls {

/// Smallest DNS message: a 12-byte header.
inline constexpr std::size_t kDnsHeaderSize = 12;

/// Appends @p message to @p out with its length prefix. False if it is larger than 65535 bytes.
bool append_framed(ByteQueue& out, std::span<const std::uint8_t> message);

/// Splits a byte stream into DNS messages. Messages are returned as spans into the decoder's
/// buffer, valid until the next call.
class FrameDecoder {
 public:
  enum class Status { kMessage, kNeedMore, kMalformed };

  void feed(std::span<const std::uint8_t> bytes) { buf_.append(bytes); }
  /// The next complete message, kNeedMore, or kMalformed when a frame announces a message shorter
  /// than a DNS header (the stream cannot be trusted after that: close the connection).
  Status next(std::span<const std::uint8_t>& message);
  [[nodiscard]] std::size_t buffered() const noexcept { return buf_.size(); }
  /// Bytes of a message that is not complete yet are buffered (the last one returned excluded).
  [[nodiscard]] bool partial() const noexcept { return buf_.size() > pending_consume_; }

 private:
  ByteQueue buf_;
  std::size_t pending_consume_ = 0;
};

}  // namespace dotpin::tls
