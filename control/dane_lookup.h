// SPDX-License-Identifier: Apache-2.0
/// @file dane_lookup.h
/// @brief The DNSSEC-validated TLSA lookup behind DANE pins (RFC 6698, 7671, 7673): the RRset at
/// _<port>._tcp.<auth_name>, resolved and validated by libunbound, classified the way the pin
/// refresh needs it.
///
/// Contract:
///  - One DaneLookup owns one libunbound context (and its cache). It is for one thread at a time:
///    lookup() is not reentrant and must not be called concurrently on one instance; separate
///    instances are independent. It never runs on a data-plane lcore: dotpind calls it from a
///    control thread. libunbound does the resolving in a thread of its own (ub_ctx_async(1), never
///    its fork mode, which would fork the whole appliance); that thread is created at the first
///    lookup and inherits the calling thread's CPU affinity, so it stays off the lcores too.
///  - lookup() never blocks past DaneLookupOptions::timeout: it waits on ub_fd() with poll() up to
///    the deadline and cancels the query (ub_cancel) when it passes.
///  - The four statuses are answers; everything that is not an answer (SERVFAIL, REFUSED,
///    timeout, unreachable resolvers, a bad name, a malformed answer packet) is an error Result,
///    so that the caller keeps the pins it last had rather than acting on a non-answer:
///      kSecure    the RRset validated; rdata, ttl and the RRSIG window are filled in
///      kBogus     validation failed (bad or missing signatures, expired, DS/DNSKEY mismatch);
///                 why_bogus is libunbound's reason
///      kInsecure  an answer that is not secure and not bogus: the name is under an insecure
///                 delegation, or outside every trust anchor. This includes an unsigned NXDOMAIN
///                 or NODATA: nothing proves the records are absent (an attacker could have forged
///                 the denial), only that DNSSEC does not cover the name, so the caller must treat
///                 it like unsigned data (no usable DANE, RFC 6698 §4.1), not as a removal
///      kMissing   a validated NXDOMAIN or NODATA: the zone is signed and proves there is no TLSA
///                 RRset at the name (the operator removed it, or never published one)
///  - Results are cached by libunbound for their TTL (capped by the signature expiration): a second
///    lookup within it does not go to the network.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/time_util.h"

struct ub_ctx;

namespace dotpin::dane {

inline constexpr std::uint16_t kTypeTlsa = 52;
/// The Debian dns-root-data package's root trust anchor (DS and DNSKEY records of the root zone).
inline constexpr const char* kDefaultRootAnchor = "/usr/share/dns/root.key";

struct DaneLookupOptions {
  /// DS or DNSKEY records in zone-file format (as keymgr, dig or drill print them). Empty: the root
  /// key at kDefaultRootAnchor. A file that holds no DS or DNSKEY record is refused (libunbound
  /// would otherwise run without an anchor and call everything insecure).
  std::string trust_anchor_file;
  /// "IP" or "IP@PORT": forward every query to these recursive resolvers (they must pass DNSSEC
  /// records through; validation is still done here). Empty: iterate from the root.
  std::vector<std::string> resolvers;
  /// zone -> "IP" or "IP@PORT": stub zones, asked directly (private zones, tests).
  std::vector<std::pair<std::string, std::string>> stubs;
  /// The whole lookup's deadline.
  std::chrono::milliseconds timeout{5000};
};

struct DaneAnswer {
  enum class Status { kSecure, kBogus, kInsecure, kMissing };
  Status status = Status::kInsecure;
  /// The TLSA RRset's owner: _853._tcp.<auth_name>., or the target of a CNAME chain from it
  /// (RFC 7671 §7); lower case, trailing dot.
  std::string owner;
  /// Raw TLSA RDATA (usage, selector, matching type, data), only when kSecure.
  std::vector<std::vector<std::uint8_t>> rdata;
  /// libunbound's TTL for the answer: the records' TTL, capped by the signatures' original TTL and
  /// expiration. For a negative answer, the negative TTL. Not to be trusted when kBogus.
  std::uint32_t ttl = 0;
  /// Earliest expiration / latest inception of the RRSIGs covering the TLSA RRset (kSecure only).
  std::optional<UnixTime> rrsig_expiration, rrsig_inception;
  /// libunbound's reason, when kBogus.
  std::string why_bogus;
};

std::string_view to_string(DaneAnswer::Status s);

class DaneLookup {
 public:
  /// Builds the libunbound context. Errors: an unreadable trust anchor file or one without a DS or
  /// DNSKEY record, a resolver or stub address libunbound does not accept, a non-positive timeout.
  static Result<DaneLookup> create(const DaneLookupOptions& options);

  DaneLookup(DaneLookup&&) noexcept;
  DaneLookup& operator=(DaneLookup&&) noexcept;
  ~DaneLookup();

  /// Resolves and validates the TLSA RRset (class IN) at _<port>._tcp.<auth_name>; see the file
  /// comment for what is a status and what is an error.
  Result<DaneAnswer> lookup(std::string_view auth_name, std::uint16_t port = 853);

 private:
  struct Inbox;
  DaneLookup(ub_ctx* ctx, std::unique_ptr<Inbox> inbox, std::string anchor, std::chrono::milliseconds timeout);

  ub_ctx* ctx_ = nullptr;
  std::unique_ptr<Inbox> inbox_;
  std::string anchor_;  // the trust anchor file in use, for messages
  std::chrono::milliseconds timeout_;
};

}  // namespace dotpin::dane
