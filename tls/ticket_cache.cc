// SPDX-License-Identifier: Apache-2.0
#include "tls/ticket_cache.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

namespace dotpin::tls {

TicketCache::~TicketCache() { clear(); }

WOLFSSL_SESSION* TicketCache::usable(std::uint64_t generation) noexcept {
  if (session_ && generation_ != generation) {
    clear();
    ++dropped_stale_;
  }
  return session_;
}

void TicketCache::store(WOLFSSL_SESSION* session, std::uint64_t generation, const PinVerdict& verdict) noexcept {
  clear();
  session_ = session;
  generation_ = generation;
  verdict_ = verdict;
  if (session) ++stored_;
}

void TicketCache::clear() noexcept {
  if (session_) wolfSSL_SESSION_free(session_);
  session_ = nullptr;
}

}  // namespace dotpin::tls
