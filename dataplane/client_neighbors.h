// SPDX-License-Identifier: Apache-2.0
/// @file client_neighbors.h
/// @brief The link-layer way back to each TCP client: the source MAC (and 802.1Q tag) its last
/// segment came with, keyed by its IP address. Worker lcores learn it as they hand segments to
/// the kernel (exception_port.h) and read it when they send the kernel's replies, which the kernel
/// addresses to nobody in particular (its side of the exception path is NOARP). Replies thus go
/// where UDP answers go: back to the MAC the query came from. Shared by all lcores, no lock:
/// direct-mapped entries under a seqlock each; a writer that finds an entry being written skips
/// (it learns again on the client's next segment), a reader that races a writer retries, then
/// gives up (the segment is dropped, counted, and TCP retransmits it). Two clients on one slot
/// evict each other; each of their segments re-learns its own entry.
/// Spoofing: only a connection's opening SYN may *change* the hop of an address already known; any
/// other segment only fills a slot that does not hold its address. So one forged segment with a
/// victim's source address (another MAC, another VLAN) cannot redirect the victim's open
/// connections. A forged SYN still can (a client that really moved must be able to reconnect);
/// closing that needs hops per connection (the 4-tuple) or the VLAN in the key, which views
/// (issue 15) bring. The slot hash is seeded per process, so which addresses collide cannot be
/// chosen from outside.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

namespace dotpin::dataplane {

class ClientNeighbors {
 public:
  struct Hop {
    std::uint8_t mac[6];
    std::uint16_t vlan;  ///< the 802.1Q TCI (0: untagged)
  };

  /// @p seed: the slot hash's key (dotpind draws it at start; tests may fix it).
  explicit ClientNeighbors(std::size_t entries_pow2 = 1 << 16, std::uint64_t seed = 0)
      : mask_(entries_pow2 - 1), seed_(seed | 1), slots_(std::make_unique<Slot[]>(entries_pow2)) {}

  /// @p ip: 4 or 16 bytes (network order). @p opening: the segment is a SYN without ACK (a new
  /// connection): it may replace a known hop for @p ip; any other segment only fills a slot that
  /// does not already hold @p ip.
  void learn(const std::uint8_t* ip, bool ipv6, const std::uint8_t* mac, std::uint16_t vlan, bool opening) noexcept {
    std::uint64_t k0, k1;
    key(ip, ipv6, k0, k1);
    Slot& s = slots_[index(k0, k1)];
    const std::uint64_t hop = pack(mac, vlan);
    std::uint64_t seq = s.seq.load(std::memory_order_acquire);
    if ((seq & 1) == 0 && seq != 0 && s.k0.load(std::memory_order_relaxed) == k0 &&
        s.k1.load(std::memory_order_relaxed) == k1) {
      const std::uint64_t known = s.hop.load(std::memory_order_relaxed);
      if (s.seq.load(std::memory_order_acquire) == seq && (known == hop || !opening))
        return;  // known and unchanged (the common case), or a change that only a SYN may make
    }
    if ((seq & 1) != 0 || !s.seq.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire)) return;
    std::atomic_thread_fence(std::memory_order_release);
    s.k0.store(k0, std::memory_order_relaxed);
    s.k1.store(k1, std::memory_order_relaxed);
    s.hop.store(hop, std::memory_order_relaxed);
    s.seq.store(seq + 2, std::memory_order_release);
  }

  /// The hop for @p ip, or false when it is unknown (or being rewritten).
  bool find(const std::uint8_t* ip, bool ipv6, Hop& out) const noexcept {
    std::uint64_t k0, k1;
    key(ip, ipv6, k0, k1);
    const Slot& s = slots_[index(k0, k1)];
    for (int attempt = 0; attempt < 4; ++attempt) {
      const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq & 1) continue;
      const std::uint64_t a = s.k0.load(std::memory_order_relaxed), b = s.k1.load(std::memory_order_relaxed),
                          hop = s.hop.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_relaxed) != seq) continue;
      if (seq == 0 || a != k0 || b != k1) return false;
      for (int i = 0; i < 6; ++i) out.mac[i] = static_cast<std::uint8_t>(hop >> (8 * i));
      out.vlan = static_cast<std::uint16_t>(hop >> 48);
      return true;
    }
    return false;
  }

 private:
  struct alignas(32) Slot {
    std::atomic<std::uint64_t> seq{0};  // odd while written; 0: never written
    std::atomic<std::uint64_t> k0{0}, k1{0};
    std::atomic<std::uint64_t> hop{0};
  };
  static void key(const std::uint8_t* ip, bool ipv6, std::uint64_t& k0, std::uint64_t& k1) noexcept {
    if (ipv6) {
      std::memcpy(&k0, ip, 8);
      std::memcpy(&k1, ip + 8, 8);
    } else {
      std::uint32_t v4;
      std::memcpy(&v4, ip, 4);
      k0 = 0;
      k1 = std::uint64_t{v4} << 32 | 0xffff0000u;  // ::ffff:a.b.c.d, as a tag that no IPv6 key has
    }
  }
  [[nodiscard]] std::size_t index(std::uint64_t k0, std::uint64_t k1) const noexcept {
    // Every key bit reaches every index bit (a multiply alone carries only upwards: the last byte
    // of an IPv4 address, the top byte of k1, would never reach the index). MurmurHash3's fmix64.
    std::uint64_t h = k0 ^ ((k1 << 32) | (k1 >> 32)) * 0x9E3779B97F4A7C15ull ^ seed_;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return static_cast<std::size_t>(h) & mask_;
  }
  static std::uint64_t pack(const std::uint8_t* mac, std::uint16_t vlan) noexcept {
    std::uint64_t v = std::uint64_t{vlan} << 48;
    for (int i = 0; i < 6; ++i) v |= std::uint64_t{mac[i]} << (8 * i);
    return v;
  }
  std::size_t mask_;
  std::uint64_t seed_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace dotpin::dataplane
