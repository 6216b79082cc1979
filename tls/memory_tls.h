// SPDX-License-Identifier: Apache-2.0
/// @file memory_tls.h
/// @brief A wolfSSL session whose records go to and come from memory, not a socket.
///
/// The owner moves bytes: whatever arrives from the network is appended to inbound(), whatever
/// wolfSSL wants to send appears in outbound(). This keeps wolfSSL off the socket entirely, so the
/// same session works over io_uring, over a blocking socket, or in a test that shuttles bytes
/// between a client and a server in one thread.
#pragma once

#include <memory>

#include "tls/byte_queue.h"

struct WOLFSSL;
struct WOLFSSL_CTX;

namespace dotpin::tls {

/// What a non-blocking TLS call needs next.
enum class IoState { kDone, kNeedRead, kNeedWrite, kError };

class MemoryTls {
 public:
  /// Creates a session from @p ctx (client or server) with memory I/O callbacks. Throws
  /// std::runtime_error when wolfSSL_new fails (no memory, or a null @p ctx).
  explicit MemoryTls(WOLFSSL_CTX* ctx);
  ~MemoryTls();
  MemoryTls(const MemoryTls&) = delete;
  MemoryTls& operator=(const MemoryTls&) = delete;

  [[nodiscard]] WOLFSSL* ssl() const noexcept { return ssl_; }  // NOLINT: wolfSSL takes non-const
  ByteQueue& inbound() noexcept { return in_; }
  ByteQueue& outbound() noexcept { return out_; }

  /// Maps a wolfSSL return value of connect/accept/read/write to what is needed next.
  [[nodiscard]] IoState state_after(int ret) const noexcept;
  /// wolfSSL's error code for the last failed call.
  [[nodiscard]] int last_error(int ret) const noexcept;
  /// True once a record could not be queued for lack of memory (the wolfSSL call that wrote it
  /// failed): the session is unusable, and the cause is local, not the peer.
  [[nodiscard]] bool exhausted() const noexcept { return exhausted_; }
  void note_exhausted() noexcept { exhausted_ = true; }

 private:
  WOLFSSL* ssl_ = nullptr;
  ByteQueue in_;
  ByteQueue out_;
  bool exhausted_ = false;
};

/// Deleters for wolfSSL handles held in unique_ptr.
struct CtxDeleter {
  void operator()(WOLFSSL_CTX* ctx) const noexcept;
};
using CtxPtr = std::unique_ptr<WOLFSSL_CTX, CtxDeleter>;

}  // namespace dotpin::tls
