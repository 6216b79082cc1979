// SPDX-License-Identifier: Apache-2.0
/// @file byte_queue.h
/// @brief A FIFO of bytes between a socket and a TLS session (appended at the back, consumed at
/// the front), compacted lazily so steady-state traffic does not allocate.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace dotpin::tls {

class ByteQueue {
 public:
  void append(std::span<const std::uint8_t> data) {
    if (head_ > 0 && head_ == buf_.size()) clear();
    buf_.insert(buf_.end(), data.begin(), data.end());
  }
  /// Copies up to dst.size() bytes out and consumes them; returns the count.
  std::size_t read(std::span<std::uint8_t> dst) noexcept {
    const std::size_t n = std::min(dst.size(), size());
    std::memcpy(dst.data(), buf_.data() + head_, n);
    consume(n);
    return n;
  }
  [[nodiscard]] std::span<const std::uint8_t> data() const noexcept { return {buf_.data() + head_, size()}; }
  void consume(std::size_t n) noexcept {
    head_ += std::min(n, size());
    if (head_ == buf_.size()) {
      clear();
    } else if (head_ > 65536 && head_ * 2 > buf_.size()) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  /// Moves everything queued into @p dst (replacing its contents) and leaves this queue empty. When
  /// nothing was consumed the buffers are swapped: the two ping-pong and steady traffic does not
  /// allocate or copy.
  void take_into(std::vector<std::uint8_t>& dst) {
    if (head_ == 0) {
      dst.swap(buf_);
    } else {
      dst.assign(buf_.begin() + static_cast<std::ptrdiff_t>(head_), buf_.end());
    }
    clear();
  }
  /// Frees the buffer if it grew beyond @p bytes (after a burst).
  void trim(std::size_t bytes) {
    if (buf_.capacity() > bytes && empty()) {
      std::vector<std::uint8_t>().swap(buf_);
      head_ = 0;
    }
  }
  [[nodiscard]] std::size_t size() const noexcept { return buf_.size() - head_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  void clear() noexcept {
    buf_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t head_ = 0;
};

}  // namespace dotpin::tls
