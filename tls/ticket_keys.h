// SPDX-License-Identifier: Apache-2.0
/// @file ticket_keys.h
/// @brief Session-ticket keys of the DoT server (clients resuming their TLS sessions with us),
/// rotated on a schedule.
///
/// A ticket is the server's session state sealed with ChaCha20-Poly1305 under a key only this
/// process knows (from getrandom, never written out or logged), named by 16 random bytes, with a
/// random 96-bit nonce per ticket and the key name and nonce as associated data. A new key is made
/// every rotation interval (made on first use after the interval ends): tickets under the current
/// key resume; tickets under the one before it resume and are told to get a fresh ticket (TLS 1.3
/// clients get one; wolfSSL 5.5.4 issues none on a resumed TLS 1.2 session); a key opens nothing
/// two intervals after it was made, and is then wiped. Anything older, or any ticket that does not
/// authenticate, gets a full handshake. So a ticket lives less than two intervals, and a key leaked
/// from memory opens no session older than that.
/// One owner thread: no locking.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

struct WOLFSSL;

namespace dotpin::tls {

class TicketKeys {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TicketKeys(std::chrono::seconds rotation);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  /// wolfSSL's SessionTicketEncCb (set with this object as the context).
  static int callback(WOLFSSL* ssl, unsigned char key_name[16], unsigned char iv[16], unsigned char mac[32], int enc,
                      unsigned char* ticket, int in_len, int* out_len, void* ctx);

  /// Seals @p ticket[0, in_len) in place at time @p now; fills the key name, nonce and tag. Returns
  /// a WOLFSSL_TICKET_RET_* value.
  int seal(Clock::time_point now, unsigned char key_name[16], unsigned char iv[16], unsigned char mac[32],
           unsigned char* ticket, int in_len, int* out_len);
  /// Opens a ticket in place: RET_OK under the current key, RET_CREATE under the previous one,
  /// RET_REJECT for an unknown key or a ticket that does not authenticate.
  int open(Clock::time_point now, const unsigned char key_name[16], const unsigned char iv[16],
           const unsigned char mac[32], unsigned char* ticket, int in_len, int* out_len);

  [[nodiscard]] std::chrono::seconds rotation() const noexcept { return rotation_; }
  /// Keys made so far (the first included).
  [[nodiscard]] std::uint64_t keys_made() const noexcept { return keys_made_; }

 private:
  struct Key {
    std::array<std::uint8_t, 16> name{};
    std::array<std::uint8_t, 32> secret{};
    Clock::time_point made{};
  };
  void rotate_if_due(Clock::time_point now);
  void make_key(Key& k, Clock::time_point now);
  static void wipe(Key& k) noexcept;

  std::chrono::seconds rotation_;
  Key current_{}, previous_{};
  bool has_current_ = false, has_previous_ = false;
  std::uint64_t keys_made_ = 0;
};

}  // namespace dotpin::tls
