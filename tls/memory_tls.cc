// SPDX-License-Identifier: Apache-2.0
#include "tls/memory_tls.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <stdexcept>

#include "tls/wolfssl_init.h"

namespace dotpin::tls {
namespace {

int recv_cb(WOLFSSL*, char* buf, int sz, void* ctx) {
  auto* self = static_cast<MemoryTls*>(ctx);
  if (self->inbound().empty()) return WOLFSSL_CBIO_ERR_WANT_READ;
  return static_cast<int>(
      self->inbound().read({reinterpret_cast<std::uint8_t*>(buf), static_cast<std::size_t>(sz)}));
}

int send_cb(WOLFSSL*, char* buf, int sz, void* ctx) {
  auto* self = static_cast<MemoryTls*>(ctx);
  // wolfSSL is C: nothing may unwind through it. A record that finds no memory fails the call.
  try {
    self->outbound().append({reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(sz)});
  } catch (...) {
    self->note_exhausted();
    return WOLFSSL_CBIO_ERR_GENERAL;
  }
  return sz;
}

}  // namespace

void CtxDeleter::operator()(WOLFSSL_CTX* ctx) const noexcept { wolfSSL_CTX_free(ctx); }

MemoryTls::MemoryTls(WOLFSSL_CTX* ctx) {
  ensure_wolfssl_initialised();
  ssl_ = wolfSSL_new(ctx);
  if (!ssl_) throw std::runtime_error("wolfSSL_new failed");  // no memory, or no context
  wolfSSL_SSLSetIORecv(ssl_, recv_cb);
  wolfSSL_SSLSetIOSend(ssl_, send_cb);
  wolfSSL_SetIOReadCtx(ssl_, this);
  wolfSSL_SetIOWriteCtx(ssl_, this);
}

MemoryTls::~MemoryTls() { wolfSSL_free(ssl_); }

IoState MemoryTls::state_after(int ret) const noexcept {
  if (ret > 0) return IoState::kDone;
  switch (wolfSSL_get_error(ssl_, ret)) {
    case WOLFSSL_ERROR_WANT_READ: return IoState::kNeedRead;
    case WOLFSSL_ERROR_WANT_WRITE: return IoState::kNeedWrite;
    default: return IoState::kError;
  }
}

int MemoryTls::last_error(int ret) const noexcept { return wolfSSL_get_error(ssl_, ret); }

}  // namespace dotpin::tls
