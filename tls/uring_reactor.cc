// SPDX-License-Identifier: Apache-2.0
#include "tls/uring_reactor.h"

#include <liburing.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace dotpin::tls {

struct UringReactor::Ring {
  io_uring ring{};
};

UringReactor::UringReactor(unsigned entries) : ring_(std::make_unique<Ring>()) {
  const int rc = io_uring_queue_init(entries, &ring_->ring, 0);
  if (rc < 0) throw std::runtime_error(std::string("io_uring_queue_init: ") + std::strerror(-rc));
}

UringReactor::~UringReactor() { io_uring_queue_exit(&ring_->ring); }

void* UringReactor::next_sqe(IoRequest* r) {
  if (r->busy) return nullptr;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  if (!sqe) {
    // Submission queue full: hand the batch to the kernel and take a fresh slot.
    io_uring_submit(&ring_->ring);
    sqe = io_uring_get_sqe(&ring_->ring);
    if (!sqe) return nullptr;
  }
  r->busy = true;
  ++in_flight_;
  return sqe;
}

bool UringReactor::connect(int fd, const sockaddr* addr, socklen_t len, IoRequest* r) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(r));
  if (!sqe) return false;
  io_uring_prep_connect(sqe, fd, addr, len);
  io_uring_sqe_set_data(sqe, r);
  return true;
}

bool UringReactor::send(int fd, const void* buf, std::size_t len, IoRequest* r) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(r));
  if (!sqe) return false;
  io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
  io_uring_sqe_set_data(sqe, r);
  return true;
}

bool UringReactor::recv(int fd, void* buf, std::size_t len, IoRequest* r) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(r));
  if (!sqe) return false;
  io_uring_prep_recv(sqe, fd, buf, len, 0);
  io_uring_sqe_set_data(sqe, r);
  return true;
}

bool UringReactor::accept(int fd, sockaddr* addr, socklen_t* len, IoRequest* r) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(r));
  if (!sqe) return false;
  io_uring_prep_accept(sqe, fd, addr, len, SOCK_CLOEXEC);
  io_uring_sqe_set_data(sqe, r);
  return true;
}

bool UringReactor::read(int fd, void* buf, std::size_t len, IoRequest* r) {
  auto* sqe = static_cast<io_uring_sqe*>(next_sqe(r));
  if (!sqe) return false;
  io_uring_prep_read(sqe, fd, buf, static_cast<unsigned>(len), 0);
  io_uring_sqe_set_data(sqe, r);
  return true;
}

void UringReactor::cancel(IoRequest* r) {
  if (!r->busy) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  if (!sqe) {
    io_uring_submit(&ring_->ring);
    sqe = io_uring_get_sqe(&ring_->ring);
    if (!sqe) return;
  }
  io_uring_prep_cancel(sqe, r, 0);
  io_uring_sqe_set_data(sqe, nullptr);  // the cancel's own completion carries no request
  ++in_flight_;
}

unsigned UringReactor::poll(std::chrono::microseconds wait) {
  io_uring_submit(&ring_->ring);
  if (wait.count() > 0 && in_flight_ > 0) {
    __kernel_timespec ts{};
    ts.tv_sec = wait.count() / 1000000;
    ts.tv_nsec = (wait.count() % 1000000) * 1000;
    io_uring_cqe* cqe = nullptr;
    io_uring_wait_cqe_timeout(&ring_->ring, &cqe, &ts);
  }
  unsigned done = 0;
  io_uring_cqe* cqes[64];
  for (;;) {
    const unsigned n = io_uring_peek_batch_cqe(&ring_->ring, cqes, 64);
    if (n == 0) break;
    for (unsigned i = 0; i < n; ++i) {
      auto* r = static_cast<IoRequest*>(io_uring_cqe_get_data(cqes[i]));
      const int res = cqes[i]->res;
      io_uring_cqe_seen(&ring_->ring, cqes[i]);
      --in_flight_;
      if (!r) continue;  // completion of a cancel request
      r->busy = false;
      // The completion may queue new work on this reactor; it is submitted at the next poll.
      r->on_complete(r, res);
      ++done;
    }
  }
  return done;
}

}  // namespace dotpin::tls
