// SPDX-License-Identifier: Apache-2.0
/// @file uring_reactor.h
/// @brief One io_uring per owner thread: socket operations are queued, submitted in one batch per
/// poll, and completions are reaped without blocking so a poll-mode loop can call it every pass.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <memory>

namespace dotpin::tls {

/// One outstanding operation. Embedded in its owner, which must keep it alive until its
/// completion has run (busy() says whether it is still in flight).
struct IoRequest {
  void (*on_complete)(IoRequest* self, int result) = nullptr;  ///< result: bytes, 0, or -errno
  bool busy = false;
};

class UringReactor {
 public:
  /// Creates the ring; throws std::runtime_error with errno text if the kernel refuses.
  explicit UringReactor(unsigned entries = 256);
  ~UringReactor();
  UringReactor(const UringReactor&) = delete;
  UringReactor& operator=(const UringReactor&) = delete;

  // Queue an operation (submitted at the next poll). False if @p r is already in flight.
  bool connect(int fd, const sockaddr* addr, socklen_t len, IoRequest* r);
  bool send(int fd, const void* buf, std::size_t len, IoRequest* r);
  bool recv(int fd, void* buf, std::size_t len, IoRequest* r);
  /// Accepts a connection on listening socket @p fd (close-on-exec); the result is the new fd.
  bool accept(int fd, sockaddr* addr, socklen_t* len, IoRequest* r);
  /// Reads @p len bytes from a file (an eventfd: 8).
  bool read(int fd, void* buf, std::size_t len, IoRequest* r);
  /// Asks the kernel to cancel @p r if it is in flight; its completion then runs with -ECANCELED
  /// (or its real result if it finished first).
  void cancel(IoRequest* r);

  /// Submits what is queued and runs every completion that is ready. With @p wait > 0, waits up to
  /// that long for the first one. Returns the number of completions run.
  unsigned poll(std::chrono::microseconds wait = std::chrono::microseconds{0});

  [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }

 private:
  struct Ring;
  void* next_sqe(IoRequest* r);
  std::unique_ptr<Ring> ring_;
  std::size_t in_flight_ = 0;
};

}  // namespace dotpin::tls
