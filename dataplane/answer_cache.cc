// SPDX-License-Identifier: Apache-2.0
#include "dataplane/answer_cache.h"

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

namespace dotpin::dataplane {

// One allocation: this header, then the key, the TTL offsets and the answer.
struct AnswerCache::Record {
  std::uint64_t hash;
  std::uint32_t stored_at, expires_at;
  std::uint16_t key_len, message_len, ttl_count;
  std::uint32_t size;
  std::uint32_t stale_epoch;  // AnswerCache::stale_epoch_ when stored: older ones are never served stale
  std::uint8_t* key() noexcept { return reinterpret_cast<std::uint8_t*>(this + 1); }
  std::uint16_t* ttls() noexcept {
    return reinterpret_cast<std::uint16_t*>(key() + ((key_len + 1u) & ~1u));
  }
  std::uint8_t* message() noexcept { return reinterpret_cast<std::uint8_t*>(ttls() + ttl_count); }
};

namespace {
inline std::uint32_t tag_of(std::uint64_t hash) noexcept { return static_cast<std::uint32_t>(hash >> 32) | 1u; }
}  // namespace

AnswerCache::AnswerCache(const CacheOptions& options) : options_(options) {
  const std::size_t buckets = std::bit_ceil(std::max<std::size_t>(1, (options.entries + kWays - 1) / kWays));
  buckets_.resize(buckets);
  mask_ = buckets - 1;
}

AnswerCache::~AnswerCache() { flush(); }

void AnswerCache::prefetch(const CacheKey& key) const noexcept {
  __builtin_prefetch(&buckets_[key.hash & mask_]);
}

void AnswerCache::prefetch_record(const CacheKey& key) const noexcept {
  const Bucket& b = buckets_[key.hash & mask_];
  const std::uint32_t tag = tag_of(key.hash);
  for (unsigned w = 0; w < kWays; ++w)
    if (b.tag[w] == tag) {
      __builtin_prefetch(b.rec[w]);
      return;
    }
}

AnswerCache::Record* AnswerCache::find(const CacheKey& key) const noexcept {
  const Bucket& b = buckets_[key.hash & mask_];
  const std::uint32_t tag = tag_of(key.hash);
  for (unsigned w = 0; w < kWays; ++w) {
    if (b.tag[w] != tag) continue;
    Record* r = b.rec[w];
    if (r->hash == key.hash && r->key_len == key.len && std::memcmp(r->key(), key.bytes, key.len) == 0) return r;
  }
  return nullptr;
}

void AnswerCache::fill(Record& r, std::uint32_t now, Hit& hit) noexcept {
  hit.answer.message = {r.message(), r.message_len};
  hit.answer.ttl_offsets = {r.ttls(), r.ttl_count};
  hit.age = now - r.stored_at;
}

bool AnswerCache::lookup(const CacheKey& key, std::uint32_t now, Hit& hit) noexcept {
  Record* r = find(key);
  if (r && static_cast<std::int32_t>(now - r->expires_at) >= 0) {
    ++stats_.expired;
    r = nullptr;
  }
  if (!r) {
    ++stats_.misses;
    return false;
  }
  fill(*r, now, hit);
  ++stats_.hits;
  return true;
}

bool AnswerCache::lookup_stale(const CacheKey& key, std::uint32_t now, std::uint32_t stale_max, Hit& hit) noexcept {
  Record* r = find(key);
  if (!r) return false;
  const auto past = static_cast<std::int32_t>(now - r->expires_at);  // < 0: still live
  if (past >= 0 && (static_cast<std::uint32_t>(past) >= stale_max || r->stale_epoch != stale_epoch_)) return false;
  fill(*r, now, hit);
  return true;
}

void AnswerCache::drop(Bucket& b, unsigned way) noexcept {
  Record* r = b.rec[way];
  stats_.bytes -= r->size;
  --stats_.entries;
  std::free(r);
  b.rec[way] = nullptr;
  b.tag[way] = 0;
}

bool AnswerCache::insert(const CacheKey& key, const PreparedAnswer& answer, std::uint32_t now) {
  if (answer.ttl == 0 || answer.message.size() > options_.max_answer ||
      answer.ttl_offsets.size() > 0xffff) {
    ++stats_.not_stored;
    return false;
  }
  Bucket& b = buckets_[key.hash & mask_];
  const std::uint32_t tag = tag_of(key.hash);
  // The way to use: the same key, else an empty way, else the one that expires first.
  unsigned victim = kWays;
  for (unsigned w = 0; w < kWays && victim == kWays; ++w) {
    Record* r = b.rec[w];
    if (b.tag[w] == tag && r->key_len == key.len && std::memcmp(r->key(), key.bytes, key.len) == 0) victim = w;
  }
  const bool replacing = victim != kWays;
  for (unsigned w = 0; w < kWays && victim == kWays; ++w)
    if (b.tag[w] == 0) victim = w;
  bool evicting = false;
  if (victim == kWays) {
    victim = 0;
    for (unsigned w = 1; w < kWays; ++w)
      if (static_cast<std::int32_t>(b.rec[w]->expires_at - b.rec[victim]->expires_at) < 0) victim = w;
    evicting = static_cast<std::int32_t>(now - b.rec[victim]->expires_at) < 0;  // still live
  }
  const std::size_t key_bytes = (key.len + 1u) & ~std::size_t{1};
  const std::size_t size = sizeof(Record) + key_bytes + answer.ttl_offsets.size() * 2 + answer.message.size();
  const std::size_t freed = b.rec[victim] ? b.rec[victim]->size : 0;
  if (stats_.bytes - freed + size > options_.max_bytes) {
    ++stats_.not_stored;
    return false;
  }
  auto* r = static_cast<Record*>(std::malloc(size));
  if (r == nullptr) {
    ++stats_.not_stored;
    return false;
  }
  r->hash = key.hash;
  r->stored_at = now;
  r->stale_epoch = stale_epoch_;
  r->expires_at = now + answer.ttl;
  r->key_len = key.len;
  r->message_len = static_cast<std::uint16_t>(answer.message.size());
  r->ttl_count = static_cast<std::uint16_t>(answer.ttl_offsets.size());
  r->size = static_cast<std::uint32_t>(size);
  std::memcpy(r->key(), key.bytes, key.len);
  std::memcpy(r->ttls(), answer.ttl_offsets.data(), answer.ttl_offsets.size() * 2);
  std::memcpy(r->message(), answer.message.data(), answer.message.size());
  if (b.rec[victim]) drop(b, victim);
  b.rec[victim] = r;
  b.tag[victim] = tag;
  stats_.bytes += size;
  ++stats_.entries;
  ++stats_.inserts;
  if (replacing) ++stats_.replaced;
  if (evicting && !replacing) ++stats_.evictions;
  return true;
}

std::size_t AnswerCache::flush() {
  std::size_t n = 0;
  for (Bucket& b : buckets_)
    for (unsigned w = 0; w < kWays; ++w)
      if (b.rec[w]) {
        drop(b, w);
        ++n;
      }
  return n;
}

std::size_t AnswerCache::flush_name(std::span<const std::uint8_t> name) {
  // A key is the name, then type (2), class (2) and flags (1): see CacheKey.
  constexpr std::size_t kAfterName = 5;
  std::size_t n = 0;
  for (Bucket& b : buckets_)
    for (unsigned w = 0; w < kWays; ++w) {
      Record* r = b.rec[w];
      if (r && r->key_len == name.size() + kAfterName && std::memcmp(r->key(), name.data(), name.size()) == 0) {
        drop(b, w);
        ++n;
      }
    }
  return n;
}

}  // namespace dotpin::dataplane
