// SPDX-License-Identifier: Apache-2.0
#include "pinning/verifier.h"

#include <algorithm>
#include <optional>

#include "common/encoding.h"
#include "pinning/cert_view.h"
#include "pinning/signature.h"

// wolfSSL wants its build options before any of its headers.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

namespace dotpin {

std::string_view to_string(PinVerdictCode code) {
  switch (code) {
    case PinVerdictCode::kMatch: return "match";
    case PinVerdictCode::kMismatch: return "pin_mismatch";
    case PinVerdictCode::kNoPinInWindow: return "no_pin_in_window";
    case PinVerdictCode::kPinNotOnPath: return "pin_not_on_path";
    case PinVerdictCode::kPinWrongPosition: return "pin_wrong_position";
    case PinVerdictCode::kPathExpired: return "path_expired";
    case PinVerdictCode::kPathNotTrusted: return "path_not_trusted";
    case PinVerdictCode::kNameMismatch: return "name_mismatch";
    case PinVerdictCode::kEmptyChain: return "empty_chain";
    case PinVerdictCode::kChainTooLong: return "chain_too_long";
    case PinVerdictCode::kUnparsableChain: return "unparsable_chain";
  }
  return "?";
}

std::string_view to_string(OffPath why) {
  switch (why) {
    case OffPath::kNone: return "on the path";
    case OffPath::kNotIssuerName: return "issuer of nothing on the path";
    case OffPath::kBadSignature: return "its key signed nothing on the path";
    case OffPath::kNotCa: return "not a CA";
    case OffPath::kPathLen: return "pathLenConstraint exceeded";
    case OffPath::kUnknownCritical: return "unprocessed critical extension";
    case OffPath::kUnparsable: return "not a well-formed certificate";
    case OffPath::kBudget: return "signature-check budget exhausted";
    case OffPath::kNotChecked: return "not checked: the leaf's own pin decided";
  }
  return "?";
}

namespace {

bool structural(PinVerdictCode c) noexcept {
  return c == PinVerdictCode::kPathNotTrusted || c == PinVerdictCode::kNameMismatch ||
         c == PinVerdictCode::kEmptyChain || c == PinVerdictCode::kChainTooLong ||
         c == PinVerdictCode::kUnparsableChain;
}

bool within(UnixTime now, UnixTime from, UnixTime until) noexcept { return now >= from && now <= until; }

/// The forms whose digests verify_chain computes for @p pins: kSpkiSha256 always.
std::uint8_t forms_of(std::span<const Pin> pins) noexcept {
  std::uint8_t forms = form_bit(PinForm::kSpkiSha256);
  for (const Pin& p : pins) forms = static_cast<std::uint8_t>(forms | form_bit(p.form));
  return forms;
}

/// Fills in @p o's digests of @p forms over @p spki and @p cert (the whole DER).
void record_digests(ObservedPin& o, DerBytes cert, DerBytes spki, std::uint8_t forms) noexcept {
  o.digest = spki_sha256(spki);
  if (forms & form_bit(PinForm::kCertSha256)) o.cert_digest = spki_sha256(cert);
  if (forms & form_bit(PinForm::kSpkiSha512)) o.spki_digest512 = sha512_of(spki);
  if (forms & form_bit(PinForm::kCertSha512)) o.cert_digest512 = sha512_of(cert);
  o.parsed = true;
}

/// Whether @p o holds @p pin's digest in @p pin's form: constant-time, and never for an element
/// that did not parse or a form the verdict did not compute (@p forms).
bool holds(const ObservedPin& o, const Pin& pin, std::uint8_t forms) noexcept {
  bool equal = false;
  switch (pin.form) {
    case PinForm::kSpkiSha256: equal = pins_equal(o.digest, pin.digest); break;
    case PinForm::kCertSha256: equal = pins_equal(o.cert_digest, pin.digest); break;
    case PinForm::kSpkiSha512: equal = pins_equal(o.spki_digest512, pin.digest512); break;
    case PinForm::kCertSha512: equal = pins_equal(o.cert_digest512, pin.digest512); break;
  }
  return equal && o.parsed && (forms & form_bit(pin.form)) != 0;
}

/// Whether a pin of @p scope may match the certificate at @p position of the verified path.
bool scope_admits(PinScope scope, std::uint8_t position) noexcept {
  switch (scope) {
    case PinScope::kAnyOnPath: return true;
    case PinScope::kLeaf: return position == 0;
    case PinScope::kIssuer: return position >= 1;
  }
  return false;
}

/// Decides the code from the recorded path: shared by verify_chain and reverify.
void evaluate(PinVerdict& v, std::span<const Pin> pins, UnixTime now) noexcept {
  v.matched_pin = v.matched_element = v.out_of_window_pin = -1;
  if (v.ca_mode && !v.anchored) {
    v.code = PinVerdictCode::kPathNotTrusted;
    return;
  }
  // CA mode: the whole anchored path must be valid now, whatever element the pin is on.
  bool ca_path_valid = true;
  if (v.ca_mode) {
    for (std::size_t e = 0; e < v.observed_count; ++e) {
      const ObservedPin& o = v.observed[e];
      if (o.on_path && !within(now, o.not_before, o.not_after)) ca_path_valid = false;
    }
  }
  bool off_path_pin = false, expired_path_pin = false, wrong_position_pin = false;
  // Every (element, pin) pair is compared in constant time and no comparison is skipped.
  for (std::size_t e = 0; e < v.observed_count; ++e) {
    const ObservedPin& o = v.observed[e];
    for (std::size_t p = 0; p < pins.size(); ++p) {
      if (!holds(o, pins[p], v.forms)) continue;
      if (!o.on_path) {
        if (pins[p].in_window(now)) off_path_pin = true;
        continue;
      }
      // On the path, but not where the pin's scope allows (DANE-EE on a CA, DANE-TA on the leaf).
      if (!scope_admits(pins[p].scope, o.position)) {
        if (pins[p].in_window(now)) wrong_position_pin = true;
        continue;
      }
      if (!pins[p].in_window(now)) {
        if (v.out_of_window_pin < 0) v.out_of_window_pin = static_cast<int>(p);
        continue;
      }
      // Element 0's key proved possession in the handshake; a key above it vouches for it only
      // through a path that is valid now.
      const bool path_valid = (o.position == 0 || within(now, o.path_not_before, o.path_not_after)) && ca_path_valid;
      if (!path_valid) {
        expired_path_pin = true;
        continue;
      }
      if (v.matched_pin < 0) {
        v.matched_pin = static_cast<int>(p);
        v.matched_element = static_cast<int>(e);
      }
    }
  }
  bool any_in_window = false;
  for (const Pin& p : pins) any_in_window |= p.in_window(now);
  if (v.matched_pin >= 0) {
    v.code = PinVerdictCode::kMatch;
  } else if (v.out_of_window_pin >= 0 || !any_in_window) {
    v.code = PinVerdictCode::kNoPinInWindow;
  } else if (expired_path_pin) {
    v.code = PinVerdictCode::kPathExpired;
  } else if (off_path_pin) {
    v.code = PinVerdictCode::kPinNotOnPath;
  } else if (wrong_position_pin) {
    v.code = PinVerdictCode::kPinWrongPosition;
  } else {
    v.code = PinVerdictCode::kMismatch;
  }
}

/// Links whose signature this thread has verified, keyed by a digest of everything the check reads
/// (the child's signed bytes, algorithm and signature, and the issuer's SPKI): a genuine server
/// presents the same chain on every handshake, so its signatures are checked once per thread, not
/// once per handshake. Only successes are remembered (a failure is recomputed: an attacker cannot
/// put an entry here without a valid signature), and a hit means the very bytes that were verified,
/// so the verdict is the same with or without the cache. Round-robin replacement; no locks (one
/// per thread: a worker lcore, the control thread).
class VerifiedLinks {
 public:
  static VerifiedLinks& mine() {
    thread_local VerifiedLinks links;
    return links;
  }
  static PinDigest key_of(const CertView& child, const CertView& parent) noexcept {
    wc_Sha256 sha;
    PinDigest out{};
    if (wc_InitSha256(&sha) != 0) return out;
    bool ok = true;
    for (const DerBytes part : {child.tbs, child.sig_alg, child.signature, parent.spki})
      ok &= wc_Sha256Update(&sha, part.data(), static_cast<word32>(part.size())) == 0;
    ok &= wc_Sha256Final(&sha, out.data()) == 0;
    wc_Sha256Free(&sha);
    if (!ok) out.fill(0);
    return out;
  }
  [[nodiscard]] bool contains(const PinDigest& key) const noexcept {
    if (key == PinDigest{}) return false;
    for (std::size_t i = 0; i < used_; ++i)
      if (keys_[i] == key) return true;
    return false;
  }
  void add(const PinDigest& key) noexcept {
    if (key == PinDigest{}) return;
    keys_[next_] = key;
    next_ = (next_ + 1) % keys_.size();
    used_ = std::min(used_ + 1, keys_.size());
  }

 private:
  std::array<PinDigest, 64> keys_{};
  std::size_t next_ = 0, used_ = 0;
};

/// Depth-first search for the verified path from element 0. Link checks are memoised, so each
/// (certificate, candidate issuer) signature is verified at most once.
class PathBuilder {
 public:
  PathBuilder(std::span<const CertView* const> certs, std::size_t presented, bool ca_mode, UnixTime now)
      : certs_(certs), presented_(presented), ca_mode_(ca_mode), now_(now) {
    links_.fill(kUnknown);
    off_.fill(OffPath::kNotIssuerName);
  }

  /// Fills path() with the chosen path: in CA mode the first found that ends at an anchor, else
  /// (and in pin-only mode) the longest.
  void build() {
    path_[0] = 0;
    depth_ = 1;
    search();
  }

  [[nodiscard]] std::span<const std::uint8_t> path() const noexcept { return {best_.data(), best_length_}; }
  [[nodiscard]] bool anchored() const noexcept { return anchored_; }
  [[nodiscard]] OffPath off_path(std::size_t i) const noexcept { return off_[i]; }
  /// Signatures verified with wolfCrypt during build() (links found in the thread's cache excluded).
  [[nodiscard]] int signatures_checked() const noexcept { return signatures_; }

 private:
  static constexpr std::uint8_t kUnknown = 0xff;
  static constexpr int kMaxSteps = 512;
  static constexpr int kMaxSignatures = 24;

  bool is_anchor(std::size_t i) const noexcept { return i >= presented_; }

  /// Whether certs_[parent] may be the issuer of certs_[child] at the current depth.
  OffPath link(std::size_t child, std::size_t parent) noexcept {
    const CertView& c = *certs_[child];
    const CertView& p = *certs_[parent];
    if (!std::ranges::equal(p.subject, c.issuer)) return OffPath::kNotIssuerName;
    if (p.unknown_critical) return OffPath::kUnknownCritical;
    if (!p.may_sign_certificates()) return OffPath::kNotCa;
    if (p.path_len >= 0) {
      // Intermediates below the candidate that are not self-issued (RFC 5280 §4.2.1.9).
      int below = 0;
      for (std::size_t d = 1; d < depth_; ++d) below += certs_[path_[d]]->self_issued ? 0 : 1;
      if (below > p.path_len) return OffPath::kPathLen;
    }
    std::uint8_t& memo = links_[child * kMaxObservedAll + parent];
    if (memo == kUnknown) {
      const PinDigest key = VerifiedLinks::key_of(c, p);
      if (VerifiedLinks::mine().contains(key)) {
        memo = 1;
      } else {
        // A budget on signature checks, whatever the chain: a real one needs one per link.
        if (signatures_ == kMaxSignatures) return OffPath::kBudget;
        ++signatures_;
        memo = verify_signature(c.tbs, c.sig_alg, c.signature, p.spki) == SignatureCheck::kValid ? 1 : 0;
        if (memo == 1) VerifiedLinks::mine().add(key);
      }
    }
    return memo == 1 ? OffPath::kNone : OffPath::kBadSignature;
  }

  /// Returns true once a CA-mode path to an anchor is found (the search stops there).
  bool search() {
    // A bound on the work a hostile chain can cause (certificates that all sign one another):
    // real chains need a handful of steps.
    if (++steps_ > kMaxSteps) return false;
    const std::size_t top = path_[depth_ - 1];
    if (ca_mode_ && is_anchor(top)) {
      keep(true);
      return true;
    }
    if (depth_ > best_length_) keep(false);
    if (depth_ == kMaxObserved) return false;
    // Issuers valid now first: of two certificates for one CA key (a renewal, a cross-sign), the
    // path should go through the one that is in force.
    for (std::size_t k = 0; k < 2 * certs_.size(); ++k) {
      const std::size_t cand = k % certs_.size();
      if (!certs_[cand] || on_current_path(cand)) continue;
      if (certs_[cand]->valid_at(now_) != (k < certs_.size())) continue;
      if (is_anchor(cand) && !ca_mode_) continue;
      const OffPath why = link(top, cand);
      if (why != OffPath::kNone) {
        // Remember the most telling reason: a name match that failed later says more.
        if (off_[cand] == OffPath::kNotIssuerName) off_[cand] = why;
        continue;
      }
      path_[depth_++] = static_cast<std::uint8_t>(cand);
      if (search()) return true;
      --depth_;
    }
    return false;
  }

  bool on_current_path(std::size_t i) const noexcept {
    for (std::size_t d = 0; d < depth_; ++d)
      if (path_[d] == i) return true;
    return false;
  }

  void keep(bool anchored) noexcept {
    std::copy(path_.begin(), path_.begin() + static_cast<long>(depth_), best_.begin());
    best_length_ = depth_;
    anchored_ = anchored;
  }

  // Presented elements plus anchors considered (anchors beyond this many are not looked at).
  static constexpr std::size_t kMaxObservedAll = kMaxChainLength + 64;

  std::span<const CertView* const> certs_;
  std::size_t presented_;
  bool ca_mode_;
  std::array<std::uint8_t, kMaxObserved> path_{};
  std::size_t depth_ = 0;
  std::array<std::uint8_t, kMaxObserved> best_{};
  std::size_t best_length_ = 0;
  bool anchored_ = false;
  int steps_ = 0;
  int signatures_ = 0;
  UnixTime now_;
  std::array<std::uint8_t, kMaxObservedAll * kMaxObservedAll> links_{};
  std::array<OffPath, kMaxObservedAll> off_{};

 public:
  static constexpr std::size_t capacity() { return kMaxObservedAll; }
};

}  // namespace

PinVerdict verify_chain(std::span<const DerBytes> chain, std::span<const Pin> pins, UnixTime now,
                        std::span<const CertView> anchors) noexcept {
  PinVerdict v;
  v.ca_mode = !anchors.empty();
  if (chain.empty()) {
    v.code = PinVerdictCode::kEmptyChain;
    return v;
  }
  if (chain.size() > kMaxChainLength) {
    v.code = PinVerdictCode::kChainTooLong;
    return v;
  }
  v.presented = v.observed_count = chain.size();
  v.forms = forms_of(pins);
  std::array<std::optional<CertView>, kMaxChainLength> views{};
  std::array<const CertView*, PathBuilder::capacity()> certs{};
  for (std::size_t i = 0; i < chain.size(); ++i) {
    ObservedPin& o = v.observed[i];
    views[i] = view_certificate(chain[i]);
    // One walk: the view's SPKI when the certificate is well formed (the same bytes find_spki
    // locates, tests/pinning/chain_path_test.cc checks it), find_spki only to show the pin of one
    // that is not.
    if (const auto spki = views[i] ? std::optional<DerBytes>(views[i]->spki) : find_spki(chain[i]))
      record_digests(o, chain[i], *spki, v.forms);
    certs[i] = views[i] ? &*views[i] : nullptr;
    o.off_path = views[i] ? OffPath::kNotIssuerName : OffPath::kUnparsable;
    if (views[i]) {
      o.not_before = views[i]->not_before;
      o.not_after = views[i]->not_after;
    }
  }
  if (!views[0]) {
    v.code = PinVerdictCode::kUnparsableChain;
    return v;
  }
  // Pin-only mode, element 0 holds an in-window pin: that decides it, and no signature has to be
  // checked (the common case: a leaf pin costs two hashes, not a path). The verdict records that
  // the path above element 0 was not built, so a later re-check against other pins (reverify)
  // cannot match above it and drains the connection: its next full handshake builds the path.
  if (!v.ca_mode && v.observed[0].parsed) {
    bool leaf_match = false;
    for (const Pin& p : pins)
      leaf_match |= holds(v.observed[0], p, v.forms) && scope_admits(p.scope, 0) && p.in_window(now);
    if (leaf_match) {
      ObservedPin& o = v.observed[0];
      o.on_path = true;
      o.position = 0;
      o.off_path = OffPath::kNone;
      o.path_not_before = o.not_before;
      o.path_not_after = o.not_after;
      for (std::size_t i = 1; i < chain.size(); ++i)
        if (views[i]) v.observed[i].off_path = OffPath::kNotChecked;
      v.path_length = 1;
      v.path_complete = false;
      evaluate(v, pins, now);
      return v;
    }
  }

  // Only anchors that some presented certificate names as its issuer can extend a path.
  std::size_t count = chain.size();
  for (const CertView& a : anchors) {
    if (count == certs.size()) break;
    bool named = false;
    for (std::size_t i = 0; i < chain.size(); ++i) named |= views[i] && std::ranges::equal(views[i]->issuer, a.subject);
    if (named) certs[count++] = &a;
  }

  PathBuilder builder({certs.data(), count}, chain.size(), v.ca_mode, now);
  builder.build();
  const auto path = builder.path();
  v.path_length = path.size();
  v.anchored = builder.anchored();
  v.signatures_checked = static_cast<std::uint8_t>(builder.signatures_checked());
  UnixTime from = UnixTime::min(), until = UnixTime::max();
  for (std::size_t pos = 0; pos < path.size(); ++pos) {
    const std::size_t i = path[pos];
    const CertView& c = *certs[i];
    std::size_t slot = i;
    if (i >= chain.size()) {
      // The trust anchor the path ended at: observed after the presented elements.
      slot = v.observed_count++;
      ObservedPin& a = v.observed[slot];
      record_digests(a, c.der, c.spki, v.forms);
      a.anchor = true;
      a.not_before = c.not_before;
      a.not_after = c.not_after;
    }
    from = std::max(from, c.not_before);
    until = std::min(until, c.not_after);
    ObservedPin& o = v.observed[slot];
    o.on_path = true;
    o.position = static_cast<std::uint8_t>(pos);
    o.off_path = OffPath::kNone;
    o.path_not_before = from;
    o.path_not_after = until;
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    ObservedPin& o = v.observed[i];
    if (o.on_path || !views[i]) continue;
    o.off_path = builder.off_path(i);
  }
  evaluate(v, pins, now);
  return v;
}

PinVerdict verify_chain(std::span<const DerBytes> chain, std::span<const Pin> pins, UnixTime now,
                        std::span<const DerBytes> anchors) noexcept {
  std::array<CertView, 16> views;
  std::size_t n = 0;
  for (const DerBytes a : anchors) {
    if (n == views.size()) break;
    if (auto view = view_certificate(a)) views[n++] = *view;
  }
  return verify_chain(chain, pins, now, std::span<const CertView>(views.data(), n));
}

PinVerdict reverify(const PinVerdict& recorded, std::span<const Pin> pins, UnixTime now) noexcept {
  PinVerdict v = recorded;
  if (structural(v.code)) return v;
  evaluate(v, pins, now);
  return v;
}

std::string describe_observed(const PinVerdict& v, std::size_t k) {
  const ObservedPin& o = v.observed[k];
  if (!o.parsed) return "unparsable";
  std::string s = "pin-sha256=\"" + pin_base64(o.digest) + "\"";
  // The other digests this verdict computed, as long as a log line can bear: 8 bytes in hex.
  auto prefix = [&](PinForm form, std::span<const std::uint8_t> d) {
    if (v.forms & form_bit(form)) s += " " + std::string(to_string(form)) + "=" + hex_encode(d.first(8)) + "...";
  };
  prefix(PinForm::kCertSha256, o.cert_digest);
  prefix(PinForm::kSpkiSha512, o.spki_digest512);
  prefix(PinForm::kCertSha512, o.cert_digest512);
  if (o.anchor) return s + " (trust anchor from the CA file, on the path)";
  if (o.on_path) return s + " (on the path)";
  return s + " (not on the path: " + std::string(to_string(o.off_path)) + ")";
}

std::string describe_observed(const PinVerdict& v) {
  std::string out;
  for (std::size_t k = 0; k < v.observed_count; ++k) {
    if (k) out += ' ';
    out += "[" + std::to_string(k) + "] " + describe_observed(v, k);
  }
  return out;
}

bool admits(PinMode mode, const PinVerdict& v) noexcept {
  if (v.matched()) return true;
  if (mode != PinMode::kReport) return false;
  // Report mode stages pins, nothing else: the chain must still be well formed, for the right
  // name and trusted; only its pins may be wrong.
  return v.code == PinVerdictCode::kMismatch || v.code == PinVerdictCode::kNoPinInWindow ||
         v.code == PinVerdictCode::kPinNotOnPath || v.code == PinVerdictCode::kPinWrongPosition ||
         v.code == PinVerdictCode::kPathExpired;
}

}  // namespace dotpin
