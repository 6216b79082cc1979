// SPDX-License-Identifier: Apache-2.0
#include "tls/ticket_keys.h"

#include <sys/random.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include <cstring>
#include <stdexcept>

namespace dotpin::tls {
namespace {

constexpr std::size_t kNonce = CHACHA20_POLY1305_AEAD_IV_SIZE;      // 12
constexpr std::size_t kTag = CHACHA20_POLY1305_AEAD_AUTHTAG_SIZE;   // 16
static_assert(kNonce <= WOLFSSL_TICKET_IV_SZ && kTag <= WOLFSSL_TICKET_MAC_SZ);

bool random_bytes(void* out, std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(out);
  while (n > 0) {
    const ssize_t got = ::getrandom(p, n, 0);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

// What the tag covers besides the ticket: its key name and nonce.
std::array<std::uint8_t, WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ> aad_of(const unsigned char* name,
                                                                            const unsigned char* iv) {
  std::array<std::uint8_t, WOLFSSL_TICKET_NAME_SZ + WOLFSSL_TICKET_IV_SZ> a{};
  std::memcpy(a.data(), name, WOLFSSL_TICKET_NAME_SZ);
  std::memcpy(a.data() + WOLFSSL_TICKET_NAME_SZ, iv, WOLFSSL_TICKET_IV_SZ);
  return a;
}

}  // namespace

TicketKeys::TicketKeys(std::chrono::seconds rotation) : rotation_(rotation) {
  if (rotation_.count() <= 0) throw std::invalid_argument("ticket key rotation must be positive");
}

void TicketKeys::make_key(Key& k, Clock::time_point now) {
  if (!random_bytes(k.name.data(), k.name.size()) || !random_bytes(k.secret.data(), k.secret.size()))
    throw std::runtime_error("getrandom failed");
  k.made = now;
  ++keys_made_;
}

TicketKeys::~TicketKeys() {
  wipe(current_);
  wipe(previous_);
}

void TicketKeys::wipe(Key& k) noexcept {
  explicit_bzero(k.secret.data(), k.secret.size());
  explicit_bzero(k.name.data(), k.name.size());
}

void TicketKeys::rotate_if_due(Clock::time_point now) {
  // A key opens tickets for two intervals from when it was made, whenever rotation happens to run
  // (it runs on use): then it is wiped.
  if (has_previous_ && now - previous_.made >= 2 * rotation_) {
    wipe(previous_);
    has_previous_ = false;
  }
  if (!has_current_) {
    make_key(current_, now);
    has_current_ = true;
    return;
  }
  const auto age = now - current_.made;
  if (age < rotation_) return;
  if (age >= 2 * rotation_) {
    wipe(current_);  // past its two intervals: nothing sealed under it may open
  } else {
    previous_ = current_;
    has_previous_ = true;
  }
  make_key(current_, now);
}

int TicketKeys::seal(Clock::time_point now, unsigned char key_name[16], unsigned char iv[16], unsigned char mac[32],
                     unsigned char* ticket, int in_len, int* out_len) {
  try {
    rotate_if_due(now);
  } catch (...) {
    return WOLFSSL_TICKET_RET_FATAL;
  }
  if (in_len < 0) return WOLFSSL_TICKET_RET_FATAL;
  std::memset(iv, 0, WOLFSSL_TICKET_IV_SZ);
  std::memset(mac, 0, WOLFSSL_TICKET_MAC_SZ);
  if (!random_bytes(iv, kNonce)) return WOLFSSL_TICKET_RET_FATAL;
  std::memcpy(key_name, current_.name.data(), WOLFSSL_TICKET_NAME_SZ);
  const auto aad = aad_of(key_name, iv);
  if (wc_ChaCha20Poly1305_Encrypt(current_.secret.data(), iv, aad.data(), static_cast<word32>(aad.size()), ticket,
                                  static_cast<word32>(in_len), ticket, mac) != 0)
    return WOLFSSL_TICKET_RET_FATAL;
  *out_len = in_len;
  return WOLFSSL_TICKET_RET_OK;
}

int TicketKeys::open(Clock::time_point now, const unsigned char key_name[16], const unsigned char iv[16],
                     const unsigned char mac[32], unsigned char* ticket, int in_len, int* out_len) {
  try {
    rotate_if_due(now);
  } catch (...) {
    return WOLFSSL_TICKET_RET_REJECT;
  }
  const Key* key = nullptr;
  int verdict = WOLFSSL_TICKET_RET_OK;
  if (std::memcmp(key_name, current_.name.data(), WOLFSSL_TICKET_NAME_SZ) == 0) {
    key = &current_;
  } else if (has_previous_ && std::memcmp(key_name, previous_.name.data(), WOLFSSL_TICKET_NAME_SZ) == 0) {
    key = &previous_;
    verdict = WOLFSSL_TICKET_RET_CREATE;  // resumes, and the client gets a ticket under the new key
  }
  if (key == nullptr || in_len < 0) return WOLFSSL_TICKET_RET_REJECT;
  // The rest of the nonce and tag fields are ours to fill: zero when sealed, so anything else is forged.
  for (std::size_t i = kNonce; i < WOLFSSL_TICKET_IV_SZ; ++i)
    if (iv[i] != 0) return WOLFSSL_TICKET_RET_REJECT;
  for (std::size_t i = kTag; i < WOLFSSL_TICKET_MAC_SZ; ++i)
    if (mac[i] != 0) return WOLFSSL_TICKET_RET_REJECT;
  const auto aad = aad_of(key_name, iv);
  if (wc_ChaCha20Poly1305_Decrypt(key->secret.data(), iv, aad.data(), static_cast<word32>(aad.size()), ticket,
                                  static_cast<word32>(in_len), mac, ticket) != 0)
    return WOLFSSL_TICKET_RET_REJECT;
  *out_len = in_len;
  return verdict;
}

int TicketKeys::callback(WOLFSSL*, unsigned char key_name[16], unsigned char iv[16], unsigned char mac[32], int enc,
                         unsigned char* ticket, int in_len, int* out_len, void* ctx) {
  auto* self = static_cast<TicketKeys*>(ctx);
  if (self == nullptr) return WOLFSSL_TICKET_RET_FATAL;
  const auto now = Clock::now();
  return enc ? self->seal(now, key_name, iv, mac, ticket, in_len, out_len)
             : self->open(now, key_name, iv, mac, ticket, in_len, out_len);
}

}  // namespace dotpin::tls
